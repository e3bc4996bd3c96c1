"""Marketplace requests and responses."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Annotated, Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from core_api.events.fields import COUNTRY_RE
from core_api.events.payloads import ListingCategory
from core_api.schemas.base import In
from core_api.schemas.payments import Amount, Currency

Category = ListingCategory
Quantity = Annotated[int, Field(ge=1, le=10_000)]
DisputeReason = Literal["not_received", "not_as_described", "unauthorized", "other"]


_In = In  # refuses unknown fields and text a database cannot store


class ListingIn(_In):
    title: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=120)]
    description: Annotated[str, StringConstraints(max_length=5000)] = ""
    category: Category
    item_condition: Literal["new", "used"]
    price: Amount
    currency: Currency
    quantity: Quantity = 1
    lat: Annotated[float, Field(ge=-90.0, le=90.0, allow_inf_nan=False)]
    lon: Annotated[float, Field(ge=-180.0, le=180.0, allow_inf_nan=False)]
    ships_from: Annotated[str, StringConstraints(pattern=COUNTRY_RE)] | None = None


class ListingOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: str
    seller_id: str
    title: str
    description: str
    category: str
    item_condition: str
    price: Decimal
    currency: str
    quantity: int
    lat: float
    lon: float
    ships_from: str | None
    status: str
    created_at: datetime


class OrderIn(_In):
    listing_id: UUID
    quantity: Quantity = 1
    search_id: UUID | None = None  # the search (``GET /marketplace/search``) it was found by


class DisputeIn(_In):
    dispute_reason: DisputeReason


class ResolveIn(_In):
    """What a party may do with an open dispute: the seller concedes (the buyer is refunded),
    the buyer withdraws it. Deciding against a party is the arbiter's, not theirs."""

    outcome: Literal["concede", "withdraw"]


class OrderOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: str
    listing_id: str
    buyer_id: str
    seller_id: str
    quantity: int
    amount: Decimal
    currency: str
    status: str
    dispute_reason: str | None
    created_at: datetime
    updated_at: datetime


class ReviewIn(_In):
    rating: Annotated[int, Field(ge=1, le=5)]
    body: Annotated[str, StringConstraints(max_length=2000)] = ""


class ReviewOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: str
    order_id: str
    reviewer_id: str
    reviewee_id: str
    rating: int
    body: str
    created_at: datetime

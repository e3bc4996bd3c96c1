"""Subscription requests and responses. Prices travel as decimal strings, never JSON numbers."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Annotated, Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, StringConstraints

from core_api.schemas.base import In
from core_api.schemas.payments import Amount, Currency

Interval = Literal["week", "month", "year"]


class PlanIn(In):
    name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=80)]
    price: Amount
    currency: Currency
    interval: Interval


class SubscribeIn(In):
    plan_id: UUID


class CancelIn(In):
    """``at_period_end``: keep what was paid for and stop renewing; false ends it now."""

    at_period_end: bool = True


class PlanOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: str
    seller_id: str
    name: str
    price: Decimal
    currency: str
    interval: Interval
    active: bool
    created_at: datetime


class SubscriptionOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: str
    plan_id: str
    status: Literal["active", "past_due", "cancelled"]
    period: int
    period_end: datetime
    next_attempt_at: datetime | None
    attempts: int
    cancel_at_period_end: bool
    cancel_reason: str | None
    cancelled_at: datetime | None
    created_at: datetime


class InvoiceOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    period: int
    amount: Decimal
    currency: str
    status: Literal["open", "paid", "void"]
    attempts: int
    failure: str | None
    transaction_id: str | None
    paid_at: datetime | None

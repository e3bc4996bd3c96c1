"""Reports, blocks and the card network's chargeback notifications."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from core_api.schemas.base import In
from core_api.schemas.payments import Amount, Currency

ReportReason = Literal["spam", "scam", "fake_account", "harassment", "other"]


class ReportIn(In):
    reason: ReportReason
    note: Annotated[str, StringConstraints(max_length=2000)] = ""


class ReportOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: str
    reporter_id: str
    reported_id: str
    reason: str
    created_at: datetime


class BlockOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    blocker_id: str
    blocked_id: str
    created_at: datetime


class ChargebackIn(In):
    """What the card network tells us: its own reference (a redelivery repeats it), the
    payment it disputes (one of our transactions), how much and why."""

    network_ref: Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_.:-]{1,128}$")]
    transaction_id: Annotated[str, Field(pattern=r"^[0-9a-f-]{36}$")]
    amount: Amount
    currency: Currency
    reason: Literal["fraudulent", "not_received", "not_as_described", "duplicate"]


class ChargebackOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: str
    network_ref: str
    user_id: str
    transaction_id: str | None
    order_id: str | None
    amount: Decimal
    currency: str
    reason: str
    received_at: datetime

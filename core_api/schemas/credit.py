"""Credit responses. Money travels as decimal strings, never JSON numbers."""

from __future__ import annotations

from decimal import Decimal

from pydantic import BaseModel


class CreditOut(BaseModel):
    """The caller's credit: the published limit, what it is in and why, and how much of it
    their orders released early (and not yet delivered or refunded) use."""

    limit: Decimal
    currency: str | None
    reasons: list[str]
    in_use: Decimal
    available: Decimal
    score_version: str | None


class EarlyReleaseOut(BaseModel):
    order_id: str
    released: Decimal
    currency: str
    credit: CreditOut

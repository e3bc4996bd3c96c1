"""Admin requests and responses."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, StringConstraints

from core_api.schemas.base import In

StaffRole = Literal["admin", "analyst", "senior_analyst"]
ReasonCode = Annotated[str, StringConstraints(pattern=r"^[a-z0-9_]{1,64}$")]


_In = In  # refuses unknown fields and text a database cannot store


class StatusIn(_In):
    # suspend, ban, reinstate: "restricted" and "closed" belong to other flows.
    status: Literal["active", "suspended", "banned"]
    reason_code: ReasonCode
    note: Annotated[str, StringConstraints(max_length=2000)] = ""


class RoleIn(_In):
    role: StaffRole


class AppealIn(_In):
    body: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=5000)]


class RoleOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    user_id: str
    role: str
    granted_by: str | None
    granted_at: datetime


class AuditOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    user_id: str
    actor_id: str
    at: datetime
    reason_code: str
    note: str
    status_before: str
    status_after: str


class AppealOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: str
    user_id: str
    account_status: str
    body: str
    created_at: datetime


class ArbitrationIn(_In):
    """An arbiter's finding on an open dispute: for the buyer (escrow refunded to them) or for
    the seller (escrow released to them)."""

    outcome: Literal["buyer_won", "seller_won"]

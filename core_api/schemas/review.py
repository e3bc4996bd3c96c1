"""Review API requests and responses (``/review/api``)."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from core_api.schemas.admin import ReasonCode
from core_api.schemas.base import In

Note = Annotated[str, StringConstraints(max_length=2000)]


class DecisionIn(In):
    action: Literal["confirm", "clear", "escalate", "request_info"]
    reason: ReasonCode
    note: Note = ""


class RingDecisionIn(DecisionIn):
    """One verdict over several cases (a ring whose evidence is shared): all or none."""

    case_ids: Annotated[list[UUID], Field(min_length=1, max_length=200)]


class ReversalIn(In):
    reason: ReasonCode
    note: Note = ""


class NoteIn(In):
    """A note without a decision; the service trims it and refuses an empty one (422)."""

    body: Annotated[str, StringConstraints(min_length=1, max_length=2000)]


class AssigneeIn(In):
    assignee_id: Annotated[str, StringConstraints(max_length=36)] | None


class CaseOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: str
    user_id: str
    source: str
    risk: float
    band: str
    reasons: list[str]
    amount_at_stake: Decimal
    status: str
    assignee_id: str | None
    opened_at: datetime
    evidence_at: datetime
    updated_at: datetime


class PageOut(BaseModel):
    cases: list[CaseOut]
    next_cursor: str | None


class DecisionOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    case_id: str
    user_id: str
    analyst_id: str
    action: str
    reason: str
    note: str
    at: datetime
    reverses: int | None
    reversed_by: int | None


class NoteOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    case_id: str
    user_id: str
    author_id: str
    body: str
    at: datetime


class MetricsOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    open_cases: int
    by_status: dict[str, int]
    oldest_open_age_s: float | None
    median_open_age_s: float | None
    decisions_per_day: dict[date, dict[str, int]]
    share_confirmed: float | None
    median_time_to_decision_s: float | None
    reversals: int
    since: datetime


class SyncOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    opened: int
    refreshed: int
    unknown_users: int
    held_back: int

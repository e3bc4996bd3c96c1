"""The metrics page's figures."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy.orm import Session


@dataclass(frozen=True)
class Metrics:
    open_cases: int  # not yet decided
    by_status: dict[str, int]
    oldest_open_age_s: float | None
    median_open_age_s: float | None
    decisions_per_day: dict[date, dict[str, int]]  # day -> analyst id -> decisions
    share_confirmed: float | None  # confirmed / (confirmed + cleared), reversals excluded
    median_time_to_decision_s: float | None  # opened_at -> first verdict
    reversals: int


def metrics(
    db: Session, *, analyst_id: str, days: int = 14, now: datetime | None = None
) -> Metrics:
    raise NotImplementedError

"""The metrics page's figures: queue size and age, decisions per day per analyst, the share
confirmed (the queue's precision), time to decision, reversals."""

from __future__ import annotations

import statistics
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from core_api.db.review import ReviewCase, ReviewDecision
from core_api.services.review_common import require_analyst

_UNDECIDED_SQL = text("review_cases.status <> 'decided'")


@dataclass(frozen=True)
class Metrics:
    open_cases: int  # not yet decided
    by_status: dict[str, int]
    oldest_open_age_s: float | None
    median_open_age_s: float | None
    decisions_per_day: dict[date, dict[str, int]]  # day -> analyst id -> decisions
    share_confirmed: float | None  # confirmed / (confirmed + cleared), reversals excluded
    median_time_to_decision_s: float | None  # opened_at -> verdict
    reversals: int
    since: datetime  # the window the decision figures cover


def metrics(
    db: Session, *, analyst_id: str, days: int = 14, now: datetime | None = None
) -> Metrics:
    require_analyst(db, analyst_id)
    now = now or datetime.now(UTC)
    since = now - timedelta(days=days)
    by_status = dict(
        db.execute(select(ReviewCase.status, func.count()).group_by(ReviewCase.status)).all()
    )
    open_cases = sum(n for status, n in by_status.items() if status != "decided")
    ages = select(ReviewCase.opened_at).where(_UNDECIDED_SQL).order_by(ReviewCase.opened_at)
    oldest = db.scalar(ages.limit(1))
    median = db.scalar(ages.offset(open_cases // 2).limit(1)) if open_cases else None
    rows = db.execute(
        select(
            ReviewDecision.id,
            ReviewDecision.analyst_id,
            ReviewDecision.action,
            ReviewDecision.at,
            ReviewDecision.reverses,
            ReviewCase.opened_at,
        )
        .join(ReviewCase, ReviewCase.id == ReviewDecision.case_id)
        .where(ReviewDecision.at >= since)
    ).all()
    per_day: dict[date, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for r in rows:
        per_day[r.at.astimezone(UTC).date()][r.analyst_id] += 1
    reversed_ids = {r.reverses for r in rows if r.reverses is not None}
    verdicts = [r for r in rows if r.action in ("confirm", "clear") and r.id not in reversed_ids]
    confirmed = sum(r.action == "confirm" for r in verdicts)
    waits = [(r.at - r.opened_at).total_seconds() for r in verdicts]
    return Metrics(
        open_cases=open_cases,
        by_status=by_status,
        oldest_open_age_s=(now - oldest).total_seconds() if oldest else None,
        median_open_age_s=(now - median).total_seconds() if median else None,
        decisions_per_day={d: dict(v) for d, v in sorted(per_day.items())},
        share_confirmed=confirmed / len(verdicts) if verdicts else None,
        median_time_to_decision_s=statistics.median(waits) if waits else None,
        reversals=sum(r.action == "reverse" for r in rows),
        since=since,
    )

"""Reversing a verdict: seniors only (see ``core_api.services.review`` for the contract)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import exists, select
from sqlalchemy.orm import Session

from core_api.db.identity import User
from core_api.db.review import ReviewCase, ReviewDecision
from core_api.services import accounts, notices
from core_api.services.payments import begin_write
from core_api.services.review_common import (
    DecisionView,
    ReviewError,
    can_reverse,
    conflict,
    forbidden,
    missing,
    require_analyst,
)
from core_api.services.review_decide import check_words, emit_decision, log_decision, set_override
from serving.store import DecisionStore


def reverse(
    db: Session,
    decision_id: int,
    *,
    analyst_id: str,
    reason: str,
    note: str = "",
    store: DecisionStore | None = None,
    context: dict[str, Any] | None = None,
    now: datetime | None = None,
) -> DecisionView:
    """Reverse a verdict (senior analysts and admins only). A reversed confirm is a clear from
    now on: the account is reinstated, the override lifted, and REVIEW_DECISION ``cleared``
    (``reversed``) emitted. A reversed clear withdraws the negative label: the case goes back
    to the queue as ``escalated`` and REVIEW_DECISION ``escalated`` (``reversed``) is emitted."""
    require_analyst(db, analyst_id)
    if not can_reverse(db, analyst_id):
        raise forbidden("senior_analyst_required")
    check_words(reason, note)
    now = now or datetime.now(UTC)
    begin_write(db)  # SQLite: one writer from the first read, so two reversals cannot race
    try:
        target = _locked_target(db, decision_id, analyst_id=analyst_id)
    except ReviewError:
        db.rollback()  # let go of the write lock (SQLite) or the row lock (PostgreSQL)
        raise
    case = db.get(ReviewCase, target.case_id, with_for_update=True)
    assert case is not None  # the FK holds it
    row = log_decision(
        db, case, analyst_id=analyst_id, action="reverse", reason=reason, note=note, at=now
    )
    row.reverses = target.id
    case.updated_at = now
    if target.action == "confirm":
        user = db.get(User, case.user_id)
        if user is not None and user.status == "banned":
            accounts.change_status(
                db,
                user,
                actor_id=analyst_id,
                status="active",
                reason_code="review_reversed",
                note=note,
                context=context,
                at=now,
            )
        emit_decision(
            db, case, analyst_id=analyst_id, decision="cleared", context=context, rev=True, at=now
        )
        notices.review_reversed(db, case.user_id, case_id=case.id, at=now)
    else:
        if not _has_undecided(db, case):
            case.status, case.assignee_id = "escalated", None
        emit_decision(
            db, case, analyst_id=analyst_id, decision="escalated", context=context, rev=True, at=now
        )
    db.commit()
    if target.action == "confirm":
        set_override(store, case.user_id, action=None)
    return DecisionView.of(row)


def _locked_target(db: Session, decision_id: int, *, analyst_id: str) -> ReviewDecision:
    in_range = 1 <= decision_id < 2**31  # an INTEGER key: PostgreSQL refuses anything wider
    target = (
        db.get(ReviewDecision, decision_id, with_for_update=True, populate_existing=True)
        if in_range
        else None
    )
    if target is None:
        raise missing("no_such_decision")
    if target.user_id == analyst_id:
        raise forbidden("own_account")
    if target.action not in ("confirm", "clear"):
        raise conflict("not_a_verdict")
    if db.scalar(select(exists().where(ReviewDecision.reverses == target.id))):
        raise conflict("already_reversed")
    return target


def _has_undecided(db: Session, case: ReviewCase) -> bool:
    query = select(ReviewCase.id).where(
        ReviewCase.user_id == case.user_id,
        ReviewCase.source == case.source,
        ReviewCase.status != "decided",
        ReviewCase.id != case.id,
    )
    return db.scalar(query.limit(1)) is not None

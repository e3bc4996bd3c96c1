"""Deciding cases and reversing decisions (see ``core_api.services.review`` for the contract).

The database side of a decision (case, decision row, ban, events) is one transaction; the
online store's override is written after it commits, so a rolled-back decision never leaves a
user denied. A store that fails then costs nothing essential: the ban itself already denies
(``enforce`` passes the account's status from the core database with every decision).
"""

from __future__ import annotations

import logging
import re
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import exists, select
from sqlalchemy.orm import Session

from core_api.db.identity import User
from core_api.db.review import ReviewCase, ReviewDecision
from core_api.events import EventType
from core_api.services import accounts
from core_api.services.outbox import emit
from core_api.services.review_common import (
    DECISION_ACTIONS,
    DecisionAction,
    DecisionView,
    can_reverse,
    conflict,
    forbidden,
    invalid,
    missing,
    require_analyst,
)
from serving.store import DecisionStore

log = logging.getLogger(__name__)
REASON_RE = re.compile(r"^[a-z0-9_]{1,64}$")
MAX_NOTE = 2000
FRAUD_REASON = "confirmed_fraud"  # the ban's reason code: what the fraud labels read
_EVENT = {"confirm": "confirmed_fraud", "clear": "cleared", "escalate": "escalated"}
_STATUS = {
    "confirm": "decided",
    "clear": "decided",
    "escalate": "escalated",
    "request_info": "info_requested",
}


def decide(
    db: Session,
    case_id: str,
    *,
    analyst_id: str,
    action: DecisionAction,
    reason: str,
    note: str = "",
    store: DecisionStore | None = None,
    context: dict[str, Any] | None = None,
    now: datetime | None = None,
) -> DecisionView:
    """Decide a case; ``store`` is the online store (``Services.store``) that takes the
    per-user override; ``context`` the event context (``Client.event_context()``)."""
    require_analyst(db, analyst_id)
    if action not in DECISION_ACTIONS:
        raise invalid("bad_action")
    _check_words(reason, note)
    now = now or datetime.now(UTC)
    case = db.get(ReviewCase, case_id, with_for_update=True)
    if case is None:
        raise missing("no_such_case")
    if case.user_id == analyst_id:
        raise forbidden("own_account")
    if case.status == "decided":
        raise conflict("case_decided")
    if case.assignee_id not in (None, analyst_id):
        raise conflict("claimed_by_another")
    row = _log(db, case, analyst_id=analyst_id, action=action, reason=reason, note=note, at=now)
    case.status = _STATUS[action]
    case.assignee_id = None if action == "escalate" else case.assignee_id or analyst_id
    case.updated_at = now
    if action == "confirm":
        _ban(db, case, analyst_id=analyst_id, reason=reason, note=note, context=context)
        _close_siblings(db, case, analyst_id=analyst_id, reason=reason, at=now)
    if action in _EVENT:
        _event(db, case, analyst_id=analyst_id, decision=_EVENT[action], context=context)
    db.commit()
    if action == "confirm":
        _override(store, case.user_id, "deny")
    return DecisionView.of(row)


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
    _check_words(reason, note)
    now = now or datetime.now(UTC)
    in_range = 1 <= decision_id < 2**31  # an INTEGER key: PostgreSQL refuses anything wider
    target = db.get(ReviewDecision, decision_id, with_for_update=True) if in_range else None
    if target is None:
        raise missing("no_such_decision")
    if target.user_id == analyst_id:
        raise forbidden("own_account")
    if target.action not in ("confirm", "clear"):
        raise conflict("not_a_verdict")
    if db.scalar(select(exists().where(ReviewDecision.reverses == target.id))):
        raise conflict("already_reversed")
    case = db.get(ReviewCase, target.case_id, with_for_update=True)
    assert case is not None  # the FK holds it
    row = _log(db, case, analyst_id=analyst_id, action="reverse", reason=reason, note=note, at=now)
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
            )
        _event(db, case, analyst_id=analyst_id, decision="cleared", context=context, rev=True)
    else:
        if not _has_undecided(db, case):
            case.status, case.assignee_id = "escalated", None
        _event(db, case, analyst_id=analyst_id, decision="escalated", context=context, rev=True)
    db.commit()
    if target.action == "confirm":
        _override(store, case.user_id, None)
    return DecisionView.of(row)


def _check_words(reason: str, note: str) -> None:
    if not REASON_RE.match(reason):
        raise invalid("bad_reason")
    if len(note) > MAX_NOTE or "\x00" in note:
        raise invalid("bad_note")


def _log(
    db: Session,
    case: ReviewCase,
    *,
    analyst_id: str,
    action: str,
    reason: str,
    note: str,
    at: datetime,
) -> ReviewDecision:
    row = ReviewDecision(
        case_id=case.id,
        user_id=case.user_id,
        analyst_id=analyst_id,
        action=action,
        reason=reason,
        note=note,
        at=at,
    )
    db.add(row)
    db.flush()  # the id, for the view and for a reversal's reference
    return row


def _ban(
    db: Session,
    case: ReviewCase,
    *,
    analyst_id: str,
    reason: str,
    note: str,
    context: dict[str, Any] | None,
) -> None:
    user = db.get(User, case.user_id)
    if user is None or user.status == "banned":
        return
    accounts.change_status(
        db,
        user,
        actor_id=analyst_id,
        status="banned",
        reason_code=FRAUD_REASON,
        note=f"review case {case.id}: {reason}" + (f"; {note}" if note else ""),
        context=context,
    )


def _close_siblings(
    db: Session, case: ReviewCase, *, analyst_id: str, reason: str, at: datetime
) -> None:
    """The user's other undecided cases (an appeal excepted) end with the same verdict."""
    siblings = db.scalars(
        select(ReviewCase).where(
            ReviewCase.user_id == case.user_id,
            ReviewCase.id != case.id,
            ReviewCase.status != "decided",
            ReviewCase.source != "appeal",
        )
    ).all()
    for other in siblings:
        note = f"decided with case {case.id}"
        _log(db, other, analyst_id=analyst_id, action="confirm", reason=reason, note=note, at=at)
        other.status, other.updated_at = "decided", at


def _has_undecided(db: Session, case: ReviewCase) -> bool:
    query = select(ReviewCase.id).where(
        ReviewCase.user_id == case.user_id,
        ReviewCase.source == case.source,
        ReviewCase.status != "decided",
        ReviewCase.id != case.id,
    )
    return db.scalar(query.limit(1)) is not None


def _event(
    db: Session,
    case: ReviewCase,
    *,
    analyst_id: str,
    decision: str,
    context: dict[str, Any] | None,
    rev: bool = False,
) -> None:
    payload: dict[str, Any] = {"decision": decision, "case_id": case.id}
    if rev:
        payload["reversed"] = True
    emit(
        db,
        EventType.REVIEW_DECISION,
        actor_id=analyst_id,
        subject_id=case.user_id,
        payload=payload,
        context=context,
    )


def _override(store: DecisionStore | None, user_id: str, action: str | None) -> None:
    if store is None:
        return
    try:
        store.override(user_id, action)
    except Exception:  # the committed ban already denies; the override is the faster path
        log.warning("review: online store override for %s failed", user_id, exc_info=True)

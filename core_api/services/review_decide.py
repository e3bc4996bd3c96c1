"""Deciding cases and reversing decisions (see ``core_api.services.review`` for the contract).

The database side of a decision (case, decision row, ban, events) is one transaction; the
online store's override is written after it commits, so a rolled-back decision never leaves a
user denied. A store that fails then costs nothing essential: the ban itself already denies
(``enforce`` passes the account's status from the core database with every decision).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from core_api.db.identity import User
from core_api.db.review import MAX_NOTE, ReviewCase, ReviewDecision
from core_api.events import EventType
from core_api.services import accounts, notices
from core_api.services.outbox import emit
from core_api.services.payments import begin_write
from core_api.services.review_common import (
    DECISION_ACTIONS,
    DecisionAction,
    DecisionView,
    ReviewError,
    conflict,
    forbidden,
    invalid,
    missing,
    require_analyst,
)
from serving.store import DecisionStore

log = logging.getLogger(__name__)
REASON_RE = re.compile(r"^[a-z0-9_]{1,64}$")
MAX_BATCH = 200  # cases one decision may cover
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
    (view,) = decide_many(
        db,
        [case_id],
        analyst_id=analyst_id,
        action=action,
        reason=reason,
        note=note,
        store=store,
        context=context,
        now=now,
    )
    return view


def decide_many(
    db: Session,
    case_ids: Sequence[str],
    *,
    analyst_id: str,
    action: DecisionAction,
    reason: str,
    note: str = "",
    store: DecisionStore | None = None,
    context: dict[str, Any] | None = None,
    now: datetime | None = None,
) -> tuple[DecisionView, ...]:
    """Decide several cases alike in one transaction (a ring whose evidence is shared): all
    of them or, when any one is refused, none. A case the batch already closed (another case
    of the same user was confirmed first) is not decided twice."""
    require_analyst(db, analyst_id)
    if action not in DECISION_ACTIONS:
        raise invalid("bad_action")
    if not 1 <= len(case_ids) <= MAX_BATCH:
        raise invalid("bad_batch")
    check_words(reason, note)
    now = now or datetime.now(UTC)
    begin_write(db)  # SQLite: one writer from the first read, so two verdicts cannot race
    try:
        cases = _locked_cases(db, case_ids, analyst_id=analyst_id)
    except ReviewError:
        db.rollback()  # let go of the write lock (SQLite) or the row locks (PostgreSQL)
        raise
    rows = [
        _apply(
            db,
            case,
            analyst_id=analyst_id,
            action=action,
            reason=reason,
            note=note,
            context=context,
            at=now,
        )
        for case in cases
        if case.status != "decided"
    ]
    db.commit()
    for case in cases:
        if action == "confirm":
            set_override(store, case.user_id, action="deny")
        elif action == "clear" and case.source == "appeal":
            set_override(store, case.user_id, action=None)
    return tuple(DecisionView.of(row) for row in rows)


def _locked_cases(db: Session, case_ids: Sequence[str], *, analyst_id: str) -> list[ReviewCase]:
    cases = []
    for case_id in dict.fromkeys(case_ids):
        case = db.get(ReviewCase, case_id, with_for_update=True, populate_existing=True)
        if case is None:
            raise missing("no_such_case")
        if case.user_id == analyst_id:
            raise forbidden("own_account")
        if case.status == "decided":
            raise conflict("case_decided")
        if case.assignee_id not in (None, analyst_id):
            raise conflict("claimed_by_another")
        cases.append(case)
    return cases


def _apply(
    db: Session,
    case: ReviewCase,
    *,
    analyst_id: str,
    action: str,
    reason: str,
    note: str,
    context: dict[str, Any] | None,
    at: datetime,
) -> ReviewDecision:
    row = log_decision(
        db, case, analyst_id=analyst_id, action=action, reason=reason, note=note, at=at
    )
    case.status = _STATUS[action]
    case.assignee_id = None if action == "escalate" else case.assignee_id or analyst_id
    case.updated_at = at
    if action == "confirm":
        _ban(db, case, analyst_id=analyst_id, reason=reason, note=note, context=context, at=at)
        _close_siblings(db, case, analyst_id=analyst_id, reason=reason, at=at)
    if action == "clear" and case.source == "appeal":
        _reinstate(db, case, analyst_id=analyst_id, note=note, context=context, at=at)
    notices.review_decided(
        db, case.user_id, case_id=case.id, action=action, appeal=case.source == "appeal", at=at
    )
    if action in _EVENT:
        emit_decision(
            db, case, analyst_id=analyst_id, decision=_EVENT[action], context=context, at=at
        )
    elif action == "request_info":  # a workflow step, not a verdict: its own event type
        emit(
            db,
            EventType.REVIEW_INFO_REQUESTED,
            actor_id=analyst_id,
            subject_id=case.user_id,
            payload={"case_id": case.id, "reason_code": reason},
            context=context,
            occurred_at=at,
        )
    return row


def check_words(reason: str, note: str) -> None:
    if not REASON_RE.match(reason):
        raise invalid("bad_reason")
    if len(note) > MAX_NOTE or "\x00" in note:
        raise invalid("bad_note")


def log_decision(
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
    at: datetime,
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
        at=at,
    )


def _reinstate(
    db: Session,
    case: ReviewCase,
    *,
    analyst_id: str,
    note: str,
    context: dict[str, Any] | None,
    at: datetime,
) -> None:
    """Clearing an appeal grants it: a suspended or banned account is active again."""
    user = db.get(User, case.user_id)
    if user is None or user.status not in ("suspended", "banned", "restricted"):
        return
    accounts.change_status(
        db,
        user,
        actor_id=analyst_id,
        status="active",
        reason_code="appeal_granted",
        note=note,
        context=context,
        at=at,
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
        log_decision(
            db, other, analyst_id=analyst_id, action="confirm", reason=reason, note=note, at=at
        )
        other.status, other.updated_at = "decided", at


def emit_decision(
    db: Session,
    case: ReviewCase,
    *,
    analyst_id: str,
    decision: str,
    context: dict[str, Any] | None,
    rev: bool = False,
    at: datetime | None = None,
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
        occurred_at=at,
    )


def set_override(store: DecisionStore | None, user_id: str, *, action: str | None) -> None:
    if store is None:
        return
    try:
        store.override(user_id, action)
    except Exception:  # the committed ban already denies; the override is the faster path
        log.warning("review: online store override for %s failed", user_id, exc_info=True)

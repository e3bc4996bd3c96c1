"""Reading the queue (filters, sort, keyset cursor) and taking cases (claim, assign).

Paging is by keyset: a page is the rows after the previous page's last ``(sort key, id)``, so
a page costs the same at any depth and rows neither repeat nor vanish when cases are added or
decided between two pages (a decided case simply leaves the undecided view). The undecided view
says ``status <> 'decided'`` literally, which is what lets both databases use the partial
indexes on ``(key, id)`` that carry the same predicate.
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy import (
    Select,
    bindparam,
    case,
    select,
    text,
    tuple_,
    update,
)
from sqlalchemy.orm import InstrumentedAttribute, Session

from core_api.db.base import UtcDateTime
from core_api.db.identity import Device, User
from core_api.db.review import CASE_STATUSES, SOURCES, ReviewCase, ReviewDecision
from core_api.services.review_common import (
    SORTS,
    CaseView,
    DecisionView,
    Sort,
    conflict,
    forbidden,
    invalid,
    is_analyst,
    missing,
    require_analyst,
)

UNDECIDED = ("open", "claimed", "escalated", "info_requested")
_UNDECIDED_SQL = text("review_cases.status <> 'decided'")
MAX_LIMIT = 200
_KEYS: dict[str, InstrumentedAttribute[Any]] = {
    "risk": ReviewCase.risk,
    "age": ReviewCase.opened_at,
    "amount": ReviewCase.amount_at_stake,
}


@dataclass(frozen=True)
class QueueFilter:
    """Every field optional. ``status`` defaults to the work still to do (open, claimed,
    escalated, info_requested); ``reason`` matches a substring of the reasons; ``search`` is a
    user id, an e-mail or a device fingerprint (exact)."""

    band: str | None = None
    reason: str | None = None
    source: str | None = None
    status: str | None = None
    assignee_id: str | None = None
    search: str | None = None


@dataclass(frozen=True)
class Page:
    rows: tuple[CaseView, ...]
    next_cursor: str | None  # opaque; pass back as ``cursor`` for the next page


def queue(
    db: Session,
    *,
    analyst_id: str,
    filters: QueueFilter | None = None,
    sort: Sort = "risk",
    descending: bool = True,
    cursor: str | None = None,
    limit: int = 50,
) -> Page:
    """One page of cases; ``cursor`` from the previous page (bound to the same sort).

    ``sort="age"`` orders by ``opened_at``: ``descending=False`` puts the oldest first."""
    require_analyst(db, analyst_id)
    if sort not in SORTS:
        raise invalid("bad_sort")
    if not 1 <= limit <= MAX_LIMIT:
        raise invalid("bad_limit")
    key = _KEYS[sort]
    query = _filtered(db, select(ReviewCase), filters or QueueFilter())
    if cursor is not None:
        value, last_id = _decode(cursor, sort=sort, descending=descending)
        after = tuple_(key, ReviewCase.id)
        bound = tuple_(bindparam("k", value, type_=key.type), bindparam("i", last_id))
        query = query.where(after < bound if descending else after > bound)
    order = (key.desc(), ReviewCase.id.desc()) if descending else (key.asc(), ReviewCase.id.asc())
    rows = db.scalars(query.order_by(*order).limit(limit + 1)).all()
    views = tuple(CaseView.of(r) for r in rows[:limit])
    more = len(rows) > limit
    last = views[-1] if views else None
    next_cursor = _encode(sort, descending, last) if (more and last) else None
    return Page(rows=views, next_cursor=next_cursor)


def _filtered(db: Session, query: Select[ReviewCase], f: QueueFilter) -> Select[ReviewCase]:
    if f.status is None:
        query = query.where(_UNDECIDED_SQL)
    elif f.status in CASE_STATUSES:
        query = query.where(ReviewCase.status == f.status)
        if f.status != "decided":
            query = query.where(_UNDECIDED_SQL)
    else:
        raise invalid("bad_status")
    if f.source is not None:
        if f.source not in SOURCES:
            raise invalid("bad_source")
        query = query.where(ReviewCase.source == f.source)
    if f.band is not None:
        query = query.where(ReviewCase.band == f.band)
    if f.assignee_id is not None:
        query = query.where(ReviewCase.assignee_id == f.assignee_id)
    if f.reason:
        pattern = "%" + f.reason.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        query = query.where(ReviewCase.reasons.like(pattern + "%", escape="\\"))
    if f.search:
        query = query.where(ReviewCase.user_id.in_(_search(db, f.search.strip())))
    return query


def _search(db: Session, term: str) -> list[str]:
    """The users a search term names: as an id, an e-mail or a device fingerprint. Resolved
    first (each an index lookup), so the cases are then found by user on their own index."""
    by_email = select(User.id).where(User.email == term.lower())
    by_device = select(Device.user_id).where(Device.fingerprint == term)
    return [term, *db.scalars(by_email.union(by_device))]


def _encode(sort: str, descending: bool, last: CaseView) -> str:
    value: Any = {
        "risk": lambda: last.risk,
        "age": lambda: last.opened_at.isoformat(),
        "amount": lambda: str(last.amount_at_stake),
    }[sort]()
    raw = json.dumps([sort, descending, value, last.id], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode(cursor: str, *, sort: str, descending: bool) -> tuple[Any, str]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        got_sort, got_desc, value, last_id = json.loads(raw)
        if (got_sort, got_desc) != (sort, descending) or not isinstance(last_id, str):
            raise ValueError("cursor of another ordering")
        if sort == "risk":
            return float(value), last_id
        if sort == "age":
            at = datetime.fromisoformat(value)
            if at.tzinfo is None:
                raise ValueError("naive time")
            return at.astimezone(UTC), last_id
        return Decimal(value), last_id
    except (ValueError, TypeError, binascii.Error, InvalidOperation, UnicodeDecodeError):
        raise invalid("bad_cursor") from None


def case_row(db: Session, case_id: str) -> ReviewCase:
    row = db.get(ReviewCase, case_id)
    if row is None:
        raise missing("no_such_case")
    return row


def get_case(db: Session, case_id: str, *, analyst_id: str) -> CaseView:
    require_analyst(db, analyst_id)
    return CaseView.of(case_row(db, case_id))


def claim(db: Session, case_id: str, *, analyst_id: str) -> CaseView:
    """Take an unassigned case (409 ``already_claimed`` when someone else holds it). One
    conditional UPDATE, so two analysts claiming at once cannot both win."""
    require_analyst(db, analyst_id)
    row = case_row(db, case_id)
    if row.user_id == analyst_id:
        raise forbidden("own_account")
    if row.status == "decided":
        raise conflict("case_decided")
    if row.assignee_id == analyst_id:
        return CaseView.of(row)
    now = datetime.now(UTC)
    done = db.execute(
        update(ReviewCase)
        .where(ReviewCase.id == case_id, ReviewCase.assignee_id.is_(None), _UNDECIDED_SQL)
        .values(
            assignee_id=analyst_id,
            updated_at=bindparam("now", now, type_=UtcDateTime()),
            status=_claimed_status(),
        )
        .execution_options(synchronize_session=False)
    )
    db.commit()
    if done.rowcount != 1:  # type: ignore[attr-defined]  # CursorResult has it
        raise conflict("already_claimed")
    db.refresh(row)
    return CaseView.of(row)


def _claimed_status() -> Any:
    return case((ReviewCase.status == "open", "claimed"), else_=ReviewCase.status)


def assign(db: Session, case_id: str, *, analyst_id: str, assignee_id: str | None) -> CaseView:
    """Hand a case to another analyst, or release it (``assignee_id=None``)."""
    require_analyst(db, analyst_id)
    row = case_row(db, case_id)
    if analyst_id == row.user_id or assignee_id == row.user_id:
        raise forbidden("own_account")
    if row.status == "decided":
        raise conflict("case_decided")
    if assignee_id is not None and not is_analyst(db, assignee_id):
        raise invalid("assignee_not_an_analyst")
    row.assignee_id = assignee_id
    if assignee_id is None and row.status == "claimed":
        row.status = "open"
    elif assignee_id is not None and row.status == "open":
        row.status = "claimed"
    row.updated_at = datetime.now(UTC)
    db.commit()
    return CaseView.of(row)


def history(
    db: Session, *, analyst_id: str, case_id: str | None = None, user_id: str | None = None
) -> tuple[DecisionView, ...]:
    """The audit log of a case or of a user, oldest first."""
    require_analyst(db, analyst_id)
    if (case_id is None) == (user_id is None):
        raise invalid("case_or_user")
    query = select(ReviewDecision)
    if case_id is not None:
        query = query.where(ReviewDecision.case_id == case_id)
    else:
        query = query.where(ReviewDecision.user_id == user_id)
    rows = db.scalars(query.order_by(ReviewDecision.at, ReviewDecision.id)).all()
    reversed_by = {r.reverses: r.id for r in rows if r.reverses is not None}
    return tuple(DecisionView.of(r, reversed_by=reversed_by.get(r.id)) for r in rows)

"""Reading the queue (filters, sort, keyset cursor) and taking cases (claim, assign)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from core_api.services.review_common import CaseView, DecisionView, Sort


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
    """One page of cases; ``cursor`` from the previous page (bound to the same sort)."""
    raise NotImplementedError


def get_case(db: Session, case_id: str, *, analyst_id: str) -> CaseView:
    raise NotImplementedError


def claim(db: Session, case_id: str, *, analyst_id: str) -> CaseView:
    """Take an unassigned case (409 ``already_claimed`` when someone else holds it)."""
    raise NotImplementedError


def assign(db: Session, case_id: str, *, analyst_id: str, assignee_id: str | None) -> CaseView:
    """Hand a case to another analyst, or release it (``assignee_id=None``)."""
    raise NotImplementedError


def history(
    db: Session, *, analyst_id: str, case_id: str | None = None, user_id: str | None = None
) -> tuple[DecisionView, ...]:
    """The audit log of a case or of a user, oldest first."""
    raise NotImplementedError

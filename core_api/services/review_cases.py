"""Opening cases: from the latest scores' flags and the core database's open signals."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session


@dataclass(frozen=True)
class Flag:
    """One flagged user from a scoring run (a ``review_queue`` row): risk, band, the model's
    reasons and the rules hit, in words, and when they were scored."""

    user_id: str
    risk: float
    band: str
    reasons: tuple[str, ...]
    scored_at: datetime
    rules: tuple[str, ...] = ()


@dataclass(frozen=True)
class SyncResult:
    opened: int  # new cases
    refreshed: int  # open cases whose risk, reasons or amount changed
    unknown_users: int  # flags for users the core database does not have
    held_back: int  # cleared users without evidence newer than the clearing


def sync_cases(
    db: Session, *, flags: Iterable[Flag] = (), now: datetime | None = None
) -> SyncResult:
    """Open or refresh one undecided case per (user, source) from ``flags`` (source ``score``)
    and from open reports, chargebacks and appeals; commits."""
    raise NotImplementedError

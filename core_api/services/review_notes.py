"""Notes on cases, taken with or without a decision (see ``core_api.services.review``).

A note is append-only like the decision log: it is never edited or deleted, and it carries no
verdict, so it emits no event and never becomes a label. The same rules as decisions: analysts
only, never on their own account; a decided case still takes notes (what came to light later).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from core_api.db.review import MAX_NOTE, ReviewNote
from core_api.services.review_common import forbidden, invalid, require_analyst
from core_api.services.review_queue import case_row


@dataclass(frozen=True)
class NoteView:
    id: int
    case_id: str
    user_id: str  # the case's user
    author_id: str
    body: str
    at: datetime

    @classmethod
    def of(cls, row: ReviewNote) -> NoteView:
        return cls(
            id=row.id,
            case_id=row.case_id,
            user_id=row.user_id,
            author_id=row.author_id,
            body=row.body,
            at=row.at,
        )


def check_body(body: str) -> str:
    """The note as stored: trimmed; 422 ``bad_note`` when empty, too long or holding NUL."""
    text = body.strip()
    if not text or len(text) > MAX_NOTE or "\x00" in text:
        raise invalid("bad_note")
    return text


def add_note(
    db: Session, case_id: str, *, analyst_id: str, body: str, now: datetime | None = None
) -> NoteView:
    """Append a note to a case (commits)."""
    require_analyst(db, analyst_id)
    case = case_row(db, case_id)
    if case.user_id == analyst_id:
        raise forbidden("own_account")
    text = check_body(body)
    row = ReviewNote(
        case_id=case.id,
        user_id=case.user_id,
        author_id=analyst_id,
        body=text,
        at=now or datetime.now(UTC),
    )
    db.add(row)
    db.commit()
    return NoteView.of(row)


def notes(
    db: Session, *, analyst_id: str, case_id: str | None = None, user_id: str | None = None
) -> tuple[NoteView, ...]:
    """The notes on a case (404 when there is no such case) or on all of a user's cases,
    oldest first."""
    require_analyst(db, analyst_id)
    if (case_id is None) == (user_id is None):
        raise invalid("case_or_user")
    query = select(ReviewNote)
    if case_id is not None:
        case_row(db, case_id)
        query = query.where(ReviewNote.case_id == case_id)
    else:
        query = query.where(ReviewNote.user_id == user_id)
    rows = db.scalars(query.order_by(ReviewNote.at, ReviewNote.id)).all()
    return tuple(NoteView.of(r) for r in rows)

"""Account status changes (suspend, ban, reinstate): the one path /admin and the review
console share, so every change writes the same audit row and event."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from core_api.db.admin import StatusAudit
from core_api.db.identity import User
from core_api.events import EventType
from core_api.services.outbox import emit


def change_status(
    db: Session,
    target: User,
    *,
    actor_id: str,
    status: str,
    reason_code: str,
    note: str = "",
    context: dict[str, Any] | None = None,
    at: datetime | None = None,
) -> None:
    """Set ``target.status``, add the append-only audit row and the ACCOUNT_STATUS_CHANGED
    event to the session's transaction (the caller commits; a no-op change is the caller's
    to refuse). ``at`` dates the event (default now)."""
    before = target.status
    target.status = status
    db.add(
        StatusAudit(
            user_id=target.id,
            actor_id=actor_id,
            reason_code=reason_code,
            note=note,
            status_before=before,
            status_after=status,
        )
    )
    emit(
        db,
        EventType.ACCOUNT_STATUS_CHANGED,
        actor_id=actor_id,
        subject_id=target.id,
        payload={"account_status": status, "previous_status": before, "reason_code": reason_code},
        context=context,
        occurred_at=at,
    )

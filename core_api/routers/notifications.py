"""The in-app notification list (newest first, keyset paged), read marks and channel preferences.

Reading and marking take any account status: a suspended or banned user must still be able to
read why, and what their appeal came to. Changing preferences takes an active account.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Query
from sqlalchemy import and_, func, or_, select, update

from core_api.db.notify import KINDS, Notification, NotificationPreference
from core_api.deps import AnyStatusUser, ClientDep, CurrentUser, SessionDep
from core_api.events import EventType
from core_api.events.payloads import NotificationKind
from core_api.schemas.notify import (
    NotificationOut,
    NotificationPageOut,
    PreferenceIn,
    PreferenceOut,
    ReadAllOut,
    UnreadOut,
)
from core_api.services.guards import invalid, not_found
from core_api.services.notify import REQUIRED_IN_APP, channels
from core_api.services.outbox import emit

router = APIRouter(prefix="/notifications", tags=["notifications"])


def _mine(db: SessionDep, notification_id: UUID, me: AnyStatusUser) -> Notification:
    """The notification if it is the caller's; 404 otherwise, absent or not."""
    row = db.get(Notification, str(notification_id))
    if row is None or row.user_id != me.user.id:
        raise not_found("no_such_notification")
    return row


def _unread(db: SessionDep, user_id: str) -> int:
    query = select(func.count()).where(
        Notification.user_id == user_id, Notification.read_at.is_(None)
    )
    return int(db.scalar(query) or 0)


@router.get("", response_model=NotificationPageOut)
def my_notifications(
    me: AnyStatusUser,
    db: SessionDep,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    before: UUID | None = None,
    unread_only: bool = False,
) -> NotificationPageOut:
    query = select(Notification).where(Notification.user_id == me.user.id)
    if unread_only:
        query = query.where(Notification.read_at.is_(None))
    if before is not None:
        cursor = _mine(db, before, me)
        query = query.where(
            or_(
                Notification.created_at < cursor.created_at,
                and_(Notification.created_at == cursor.created_at, Notification.id < cursor.id),
            )
        )
    order = (Notification.created_at.desc(), Notification.id.desc())
    rows = list(db.scalars(query.order_by(*order).limit(limit + 1)))
    more = len(rows) > limit
    rows = rows[:limit]
    return NotificationPageOut(
        items=[NotificationOut.model_validate(r) for r in rows],
        next_before=rows[-1].id if more else None,
        unread=_unread(db, me.user.id),
    )


@router.get("/unread", response_model=UnreadOut)
def unread_count(me: AnyStatusUser, db: SessionDep) -> UnreadOut:
    return UnreadOut(unread=_unread(db, me.user.id))


@router.post("/read-all", response_model=ReadAllOut)
def read_all(me: AnyStatusUser, db: SessionDep) -> ReadAllOut:
    marked = db.execute(
        update(Notification)
        .where(Notification.user_id == me.user.id, Notification.read_at.is_(None))
        .values(read_at=datetime.now(UTC))
    )
    db.commit()
    return ReadAllOut(marked=getattr(marked, "rowcount", 0) or 0)


@router.get("/preferences", response_model=list[PreferenceOut])
def my_preferences(me: CurrentUser, db: SessionDep) -> list[PreferenceOut]:
    return [_preference(db, me.user.id, kind) for kind in KINDS]


@router.put("/preferences/{kind}", response_model=PreferenceOut)
def set_preference(
    kind: NotificationKind,
    body: PreferenceIn,
    me: CurrentUser,
    db: SessionDep,
    client: ClientDep,
) -> PreferenceOut:
    if kind in REQUIRED_IN_APP and not body.in_app:
        raise invalid("in_app_required")
    before = channels(db, me.user.id, kind=kind)
    row = db.get(NotificationPreference, (me.user.id, kind))
    if row is None:
        row = NotificationPreference(user_id=me.user.id, kind=kind)
        db.add(row)
    row.in_app, row.email, row.sms = body.in_app, body.email, body.sms
    if (before.in_app, before.email, before.sms) != (body.in_app, body.email, body.sms):
        emit(
            db,
            EventType.NOTIFICATION_PREFERENCE_CHANGED,
            actor_id=me.user.id,
            subject_id=me.user.id,
            payload={
                "notification_kind": kind,
                "in_app_enabled": body.in_app,
                "email_enabled": body.email,
                "sms_enabled": body.sms,
            },
            context=client.event_context(),
        )
    db.commit()
    return _preference(db, me.user.id, kind)


def _preference(db: SessionDep, user_id: str, kind: str) -> PreferenceOut:
    chosen = channels(db, user_id, kind=kind)
    customised = db.get(NotificationPreference, (user_id, kind)) is not None
    return PreferenceOut.model_validate({"kind": kind, **chosen.__dict__, "customised": customised})


@router.get("/{notification_id}", response_model=NotificationOut)
def get_notification(notification_id: UUID, me: AnyStatusUser, db: SessionDep) -> Notification:
    return _mine(db, notification_id, me)


@router.post("/{notification_id}/read", response_model=NotificationOut)
def mark_read(notification_id: UUID, me: AnyStatusUser, db: SessionDep) -> Notification:
    row = _mine(db, notification_id, me)
    if row.read_at is None:
        row.read_at = datetime.now(UTC)
        db.commit()
    return row

"""Telling users what they must know, in the transaction of the thing that happened.

``notify`` only adds rows to the caller's session (an in-app notification, and an e-mail or SMS
in the dev message table that stands where a provider will), so a rolled-back order step or
verdict leaves no notice of itself behind, and a committed one never lacks it. Channels follow
the user's preferences per kind (``DEFAULTS`` when unset). E-mail and SMS go only to a verified
address or phone: an unverified one may be someone else's, and notices would spam them.

Messages coalesce: while a conversation's notice is unread, a new message updates it (count,
time) instead of adding a line, and sends no second e-mail or SMS.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from core_api.db.identity import DevMessage, User
from core_api.db.notify import KINDS, Notification, NotificationPreference


@dataclass(frozen=True)
class Channels:
    in_app: bool
    email: bool
    sms: bool


# in-app, e-mail, SMS. A payout is where a taken-over account cashes out: the SMS reaches the
# owner at once. Messages stay in the app by default (chatty, and a lure's favourite channel).
DEFAULTS = {
    "review_decision": Channels(in_app=True, email=True, sms=False),
    "appeal_outcome": Channels(in_app=True, email=True, sms=False),
    "order_update": Channels(in_app=True, email=True, sms=False),
    "new_message": Channels(in_app=True, email=False, sms=False),
    "payout": Channels(in_app=True, email=True, sms=True),
    "subscription": Channels(in_app=True, email=True, sms=False),
}
# What decides about the account itself always shows in the app, whatever the preferences.
REQUIRED_IN_APP = frozenset({"review_decision", "appeal_outcome"})
assert set(DEFAULTS) == set(KINDS)


def channels(db: Session, user_id: str, *, kind: str) -> Channels:
    row = db.get(NotificationPreference, (user_id, kind))
    chosen = DEFAULTS[kind] if row is None else Channels(row.in_app, row.email, row.sms)
    if kind in REQUIRED_IN_APP and not chosen.in_app:
        return Channels(in_app=True, email=chosen.email, sms=chosen.sms)
    return chosen


def notify(
    db: Session,
    user_id: str,
    *,
    kind: str,
    title: str,
    body: str = "",
    subject: tuple[str, str] | None = None,
    coalesce: bool = False,
    now: datetime | None = None,
) -> Notification | None:
    """Add ``user_id``'s notice of ``kind`` to the session (the caller commits); returns the
    in-app row, or None when the user keeps this kind out of the app. ``subject`` is
    (type, id) of what it is about; ``coalesce`` folds it into an unread one on the same subject."""
    now = now or datetime.now(UTC)
    chosen = channels(db, user_id, kind=kind)
    subject_type, subject_id = subject if subject else (None, None)
    if coalesce and subject_id is not None:
        unread = db.scalar(
            select(Notification)
            .where(
                Notification.user_id == user_id,
                Notification.kind == kind,
                Notification.subject_id == subject_id,
                Notification.read_at.is_(None),
            )
            .limit(1)
        )
        if unread is not None:
            unread.count += 1
            unread.title, unread.body, unread.created_at = title, body, now
            return unread
    row = None
    if chosen.in_app:
        row = Notification(
            user_id=user_id,
            kind=kind,
            title=title[:120],
            body=body,
            subject_type=subject_type,
            subject_id=subject_id,
            count=1,
            created_at=now,
        )
        db.add(row)
    if chosen.email or chosen.sms:
        _send(db, user_id, chosen=chosen, text=f"{title}\n\n{body}".strip(), now=now)
    return row


def _send(db: Session, user_id: str, *, chosen: Channels, text: str, now: datetime) -> None:
    user = db.get(User, user_id)
    if user is None:
        return
    if chosen.email and user.email_verified_at is not None:
        db.add(DevMessage(channel="email", recipient=user.email, body=text, created_at=now))
    if chosen.sms and user.phone and user.phone_verified_at is not None:
        db.add(DevMessage(channel="sms", recipient=user.phone, body=text[:320], created_at=now))

"""Notifications: what a user must know, in the app (``notifications``) and by e-mail or SMS
(the dev message table stands where a provider will), and which channels each kind may use."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, CheckConstraint, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from core_api.db.base import Base, UtcDateTime, id_column_type, new_id, utcnow
from core_api.events.payloads import NOTIFICATION_KINDS

# The kinds' one home is the event contract (a preference change carries its kind).
KINDS = NOTIFICATION_KINDS
_KIND_CHECK = "kind IN (" + ", ".join(f"'{k}'" for k in KINDS) + ")"


class Notification(Base):
    """One line of a user's in-app list. ``subject_type``/``subject_id`` name what it is about
    (an order, a conversation, a review case, a ledger transaction) for the app to link to."""

    __tablename__ = "notifications"
    __table_args__ = (
        CheckConstraint(_KIND_CHECK, name="kind"),
        # The list pages newest first by (created_at, id); the unread count reads the same rows.
        Index("ix_notifications_user_created", "user_id", "created_at", "id"),
    )

    id: Mapped[str] = mapped_column(id_column_type(), primary_key=True, default=new_id)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(24))
    title: Mapped[str] = mapped_column(String(120))
    body: Mapped[str] = mapped_column(Text, default="")
    subject_type: Mapped[str | None] = mapped_column(String(16))
    subject_id: Mapped[str | None] = mapped_column(String(36))
    # Coalesced notifications (several messages in one conversation) count what they stand for.
    count: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    read_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class NotificationPreference(Base):
    """A user's channels for one kind; no row means the kind's defaults."""

    __tablename__ = "notification_preferences"
    __table_args__ = (CheckConstraint(_KIND_CHECK, name="kind"),)

    user_id: Mapped[str] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    kind: Mapped[str] = mapped_column(String(24), primary_key=True)
    in_app: Mapped[bool] = mapped_column(Boolean)
    email: Mapped[bool] = mapped_column(Boolean)
    sms: Mapped[bool] = mapped_column(Boolean)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow, onupdate=utcnow)

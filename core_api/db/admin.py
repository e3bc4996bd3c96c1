"""Access control (role grants), the audit trail of account status changes, and appeals."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from core_api.db.base import Base, UtcDateTime, id_column_type, new_id, utcnow

# ``analyst`` reviews cases; ``senior_analyst`` also reverses decisions; ``admin`` does both and
# runs /admin.
STAFF_ROLES = ("admin", "analyst", "senior_analyst")


class RoleGrant(Base):
    __tablename__ = "role_grants"
    __table_args__ = (
        CheckConstraint("role IN ('admin', 'analyst', 'senior_analyst')", name="role"),
    )

    user_id: Mapped[str] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    role: Mapped[str] = mapped_column(String(16), primary_key=True)
    # NULL: the bootstrap grant, which no admin made.
    granted_by: Mapped[str | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    granted_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class StatusAudit(Base):
    """Append-only: one row per status change, never updated (no FK on the actor so the trail
    outlives a deleted admin account)."""

    __tablename__ = "account_status_audit"
    __table_args__ = (Index("ix_account_status_audit_user_at", "user_id", "at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    user_id: Mapped[str] = mapped_column(id_column_type())
    actor_id: Mapped[str] = mapped_column(id_column_type())
    at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    reason_code: Mapped[str] = mapped_column(String(64))
    note: Mapped[str] = mapped_column(Text, default="")
    status_before: Mapped[str] = mapped_column(String(16))
    status_after: Mapped[str] = mapped_column(String(16))


class Appeal(Base):
    __tablename__ = "appeals"

    id: Mapped[str] = mapped_column(id_column_type(), primary_key=True, default=new_id)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    account_status: Mapped[str] = mapped_column(String(16))  # what was appealed
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)

"""Groups and communities: members with a role, join requests, and a minimum trust to join.

A group's posts are rows of ``posts`` with ``group_id`` set, so every read path's visibility
condition (``core_api.services.visibility``) covers them too.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, Float, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from core_api.db.base import Base, UtcDateTime, id_column_type, new_id, utcnow

GROUP_ROLES = ("member", "moderator", "owner")  # ascending: each may do what those before may
JOIN_POLICIES = ("open", "request")
REQUEST_STATUSES = ("pending", "approved", "rejected")


class Group(Base):
    __tablename__ = "groups"
    __table_args__ = (
        CheckConstraint("join_policy IN ('open', 'request')", name="join_policy"),
        CheckConstraint("min_trust >= 0 AND min_trust <= 1", name="min_trust"),
    )

    id: Mapped[str] = mapped_column(id_column_type(), primary_key=True, default=new_id)
    name: Mapped[str] = mapped_column(String(80))
    description: Mapped[str] = mapped_column(Text, default="")
    join_policy: Mapped[str] = mapped_column(String(8))
    # The published trust a user needs to join (0: anyone; above 0, unscored users wait).
    min_trust: Mapped[float] = mapped_column(Float, default=0.0)
    created_by: Mapped[str | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class GroupMember(Base):
    __tablename__ = "group_members"
    __table_args__ = (CheckConstraint("role IN ('member', 'moderator', 'owner')", name="role"),)

    group_id: Mapped[str] = mapped_column(
        ForeignKey("groups.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[str] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    role: Mapped[str] = mapped_column(String(12))
    joined_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class JoinRequest(Base):
    """One per user and group: asking again after a rejection reopens the same row."""

    __tablename__ = "group_join_requests"
    __table_args__ = (
        CheckConstraint("status IN ('pending', 'approved', 'rejected')", name="status"),
    )

    group_id: Mapped[str] = mapped_column(
        ForeignKey("groups.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[str] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    status: Mapped[str] = mapped_column(String(8))
    note: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    decided_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    decided_by: Mapped[str | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

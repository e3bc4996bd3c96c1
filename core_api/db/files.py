"""Attachments: one row per stored file, on exactly one parent (a task, a message or a listing).

The bytes live in ``core_api.blobstore`` under ``storage_key``; a parent's deletion cascades to
its rows here; the bytes of such a row stay in storage (no sweeper yet, as README says).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, CheckConstraint, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from core_api.db import collab, market, social  # noqa: F401  (the parents' tables)
from core_api.db.base import Base, UtcDateTime, id_column_type, new_id, utcnow

PARENTS = ("task", "message", "listing")
ONE_PARENT = " + ".join(f"(CASE WHEN {p}_id IS NULL THEN 0 ELSE 1 END)" for p in PARENTS) + " = 1"


def _parent(table: str) -> Mapped[str | None]:
    return mapped_column(ForeignKey(f"{table}.id", ondelete="CASCADE"))


class StoredFile(Base):
    __tablename__ = "files"
    __table_args__ = (
        CheckConstraint(ONE_PARENT, name="one_parent"),
        CheckConstraint("size_bytes > 0", name="size_positive"),
        Index("ix_files_task_created", "task_id", "created_at"),
        Index("ix_files_message_created", "message_id", "created_at"),
        Index("ix_files_listing_created", "listing_id", "created_at"),
        Index("ix_files_sha256", "sha256"),  # the same bytes on many parents or accounts
    )

    id: Mapped[str] = mapped_column(id_column_type(), primary_key=True, default=new_id)
    owner_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    task_id: Mapped[str | None] = _parent("tasks")
    message_id: Mapped[str | None] = _parent("messages")
    listing_id: Mapped[str | None] = _parent("listings")
    name: Mapped[str] = mapped_column(String(255))
    content_type: Mapped[str] = mapped_column(String(64))  # as read from the bytes
    size_bytes: Mapped[int] = mapped_column(BigInteger)
    sha256: Mapped[str] = mapped_column(String(64))
    storage_key: Mapped[str] = mapped_column(String(128), unique=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)

    @property
    def parent_type(self) -> str:
        return next(p for p in PARENTS if getattr(self, f"{p}_id") is not None)

    @property
    def parent_id(self) -> str:
        return str(getattr(self, f"{self.parent_type}_id"))

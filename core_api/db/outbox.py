"""The transactional outbox: domain events committed with the write that caused them."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Index, Integer, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from core_api.db.base import Base, UtcDateTime, id_column_type, utcnow


class OutboxRow(Base):
    __tablename__ = "outbox"
    # The relay scans undelivered rows in commit order.
    __table_args__ = (Index("ix_outbox_pending", "delivered_at", "id"),)

    # BigInteger on PostgreSQL; SQLite only auto-increments a plain INTEGER primary key.
    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    )
    event_id: Mapped[str] = mapped_column(id_column_type(), unique=True)
    event_type: Mapped[str] = mapped_column(String(40))
    occurred_at: Mapped[datetime] = mapped_column(UtcDateTime)
    line: Mapped[bytes] = mapped_column(LargeBinary)  # the validated wire line (to_wire)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    delivered_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)

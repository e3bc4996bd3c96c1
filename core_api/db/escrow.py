"""Escrows: one per paid order, beside the escrow wallet that holds its money.

The ledger says where money moved; this row says where the order's escrow stands (held, then
released to the seller or refunded to the buyer) and which transactions moved it.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import CheckConstraint, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from core_api.db import market, money  # noqa: F401  (orders and transactions)
from core_api.db.base import Base, Money, UtcDateTime, id_column_type, new_id, utcnow

ESCROW_STATUSES = ("held", "released", "refunded")


class Escrow(Base):
    __tablename__ = "escrows"
    __table_args__ = (
        CheckConstraint("status IN ('held', 'released', 'refunded')", name="status"),
        CheckConstraint("amount > 0", name="positive"),
    )

    id: Mapped[str] = mapped_column(id_column_type(), primary_key=True, default=new_id)
    order_id: Mapped[str] = mapped_column(ForeignKey("orders.id"), unique=True)
    amount: Mapped[Decimal] = mapped_column(Money)
    currency: Mapped[str] = mapped_column(String(3))
    status: Mapped[str] = mapped_column(String(8), default="held")
    hold_transaction_id: Mapped[str] = mapped_column(ForeignKey("transactions.id"))
    settle_transaction_id: Mapped[str | None] = mapped_column(ForeignKey("transactions.id"))
    held_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    settled_at: Mapped[datetime | None] = mapped_column(UtcDateTime)

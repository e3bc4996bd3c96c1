"""Listing searches: who searched when, so an order can name the search it came from.

What each search showed is in its LISTING_SEARCHED events (one per listing shown), not here:
this table only answers whether a ``search_id`` an order names is the buyer's own.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer
from sqlalchemy.orm import Mapped, mapped_column

from core_api.db.base import Base, UtcDateTime, id_column_type, new_id, utcnow


class Search(Base):
    __tablename__ = "searches"

    id: Mapped[str] = mapped_column(id_column_type(), primary_key=True, default=new_id)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    shown: Mapped[int] = mapped_column(Integer)  # listings on the page
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)

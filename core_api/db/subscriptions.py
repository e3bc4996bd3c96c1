"""Subscriptions: a seller's plans, who subscribes to them, and one invoice per billed period.

Money moves through the ledger (``transactions`` of kind ``subscription``, subscriber's wallet to
the seller's); an invoice is unique per (subscription, period), so whatever runs the billing
twice for one period, the period is charged once. A subscription's periods count from its start
(``anchor``): period ``n`` runs from ``anchor + n intervals`` to ``anchor + (n + 1) intervals``.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    String,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from core_api.db import money  # noqa: F401  (invoices reference transactions)
from core_api.db.base import Base, Money, UtcDateTime, id_column_type, new_id, utcnow

INTERVALS = ("week", "month", "year")
STATUSES = ("active", "past_due", "cancelled")
INVOICE_STATUSES = ("open", "paid", "void")
# One live subscription per subscriber and plan; cancelled ones stay as history.
_LIVE = "status <> 'cancelled'"


class Plan(Base):
    __tablename__ = "subscription_plans"
    __table_args__ = (
        CheckConstraint("billing_interval IN ('week', 'month', 'year')", name="interval"),
        CheckConstraint("price > 0", name="price_positive"),
    )

    id: Mapped[str] = mapped_column(id_column_type(), primary_key=True, default=new_id)
    seller_id: Mapped[str] = mapped_column(ForeignKey("users.id"), index=True)
    name: Mapped[str] = mapped_column(String(80))
    price: Mapped[Decimal] = mapped_column(Money)
    currency: Mapped[str] = mapped_column(String(3))
    billing_interval: Mapped[str] = mapped_column(String(8))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)

    @property
    def interval(self) -> str:  # the API's name for it
        return self.billing_interval


class Subscription(Base):
    __tablename__ = "subscriptions"
    __table_args__ = (
        CheckConstraint("status IN ('active', 'past_due', 'cancelled')", name="status"),
        CheckConstraint("period >= 0 AND attempts >= 0", name="counters"),
        Index(
            "uq_subscriptions_live",
            "subscriber_id",
            "plan_id",
            unique=True,
            sqlite_where=text(_LIVE),
            postgresql_where=text(_LIVE),
        ),
        # What the billing run reads: live subscriptions by when they are next due.
        Index("ix_subscriptions_due", "status", "next_attempt_at"),
    )

    id: Mapped[str] = mapped_column(id_column_type(), primary_key=True, default=new_id)
    plan_id: Mapped[str] = mapped_column(ForeignKey("subscription_plans.id"), index=True)
    subscriber_id: Mapped[str] = mapped_column(ForeignKey("users.id"), index=True)
    status: Mapped[str] = mapped_column(String(10), default="active")
    anchor: Mapped[datetime] = mapped_column(UtcDateTime)
    period: Mapped[int] = mapped_column(Integer, default=0)  # the last period paid
    period_end: Mapped[datetime] = mapped_column(UtcDateTime)  # end of the period paid
    # When the billing run next charges (the period's end, then each retry); NULL once cancelled.
    next_attempt_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    attempts: Mapped[int] = mapped_column(Integer, default=0)  # failed tries of the next period
    cancel_at_period_end: Mapped[bool] = mapped_column(Boolean, default=False)
    cancel_reason: Mapped[str | None] = mapped_column(String(12))
    cancelled_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow, onupdate=utcnow)


class Invoice(Base):
    """The charge of one period: ``open`` while it fails and is retried, ``paid`` with its
    ledger transaction, ``void`` when the subscription ended unpaid."""

    __tablename__ = "subscription_invoices"
    __table_args__ = (
        UniqueConstraint("subscription_id", "period", name="uq_subscription_invoices_period"),
        CheckConstraint("status IN ('open', 'paid', 'void')", name="status"),
        CheckConstraint("amount > 0", name="amount_positive"),
    )

    id: Mapped[str] = mapped_column(id_column_type(), primary_key=True, default=new_id)
    subscription_id: Mapped[str] = mapped_column(ForeignKey("subscriptions.id"))
    period: Mapped[int] = mapped_column(Integer)
    amount: Mapped[Decimal] = mapped_column(Money)
    currency: Mapped[str] = mapped_column(String(3))
    status: Mapped[str] = mapped_column(String(6), default="open")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    failure: Mapped[str | None] = mapped_column(String(24))
    transaction_id: Mapped[str | None] = mapped_column(ForeignKey("transactions.id"))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    paid_at: Mapped[datetime | None] = mapped_column(UtcDateTime)

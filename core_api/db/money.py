"""Payments tables: wallets, the double-entry ledger, and stored answers of idempotent calls.

Every money movement is one ``transactions`` row with entries that sum to zero (signed amounts:
negative leaves a wallet, positive enters it). A wallet's ``balance`` is the sum of its entries,
kept on the row so a movement locks and checks one row instead of summing history.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    ForeignKey,
    Integer,
    PrimaryKeyConstraint,
    String,
    Text,
)
from sqlalchemy.orm import Mapped, mapped_column

from core_api.db import market  # noqa: F401  (transactions.order_id references orders)
from core_api.db.base import Base, Money, UtcDateTime, id_column_type, new_id, utcnow

WALLET_KINDS = ("user", "escrow", "external")
TRANSACTION_KINDS = (
    "deposit",
    "transfer",
    "payout",
    "escrow_hold",
    "escrow_release",
    "escrow_refund",
    "subscription",
)
ZERO = Decimal("0.0000")


class Wallet(Base):
    """A user's wallet (one per currency), or a system account: the escrow pool of a currency,
    or ``external``, the outside world (card top-ups come from it, payouts go to it), the one
    account allowed below zero."""

    __tablename__ = "wallets"
    __table_args__ = (
        CheckConstraint("kind IN ('user', 'escrow', 'external')", name="kind"),
        CheckConstraint("kind = 'external' OR balance >= 0", name="not_negative"),
    )

    id: Mapped[str] = mapped_column(id_column_type(), primary_key=True, default=new_id)
    # One natural key for user and system wallets alike: a NULL owner would defeat a unique
    # (owner, currency) constraint on both backends.
    key: Mapped[str] = mapped_column(String(64), unique=True)
    kind: Mapped[str] = mapped_column(String(8))
    owner_id: Mapped[str | None] = mapped_column(ForeignKey("users.id"), index=True)
    currency: Mapped[str] = mapped_column(String(3))
    balance: Mapped[Decimal] = mapped_column(Money, default=ZERO)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow, onupdate=utcnow)


class LedgerTransaction(Base):
    __tablename__ = "transactions"
    __table_args__ = (
        CheckConstraint(
            "kind IN ('deposit', 'transfer', 'payout', 'escrow_hold', 'escrow_release', "
            "'escrow_refund', 'subscription')",
            name="kind",
        ),
        CheckConstraint("amount > 0", name="positive"),
    )

    id: Mapped[str] = mapped_column(id_column_type(), primary_key=True, default=new_id)
    kind: Mapped[str] = mapped_column(String(16))
    currency: Mapped[str] = mapped_column(String(3))
    amount: Mapped[Decimal] = mapped_column(Money)
    initiator_id: Mapped[str | None] = mapped_column(ForeignKey("users.id"), index=True)
    order_id: Mapped[str | None] = mapped_column(ForeignKey("orders.id"), index=True)
    reference: Mapped[str | None] = mapped_column(String(128))  # card or bank account token
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class Entry(Base):
    __tablename__ = "entries"
    __table_args__ = (CheckConstraint("amount <> 0", name="non_zero"),)

    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    )
    transaction_id: Mapped[str] = mapped_column(ForeignKey("transactions.id"), index=True)
    wallet_id: Mapped[str] = mapped_column(ForeignKey("wallets.id"), index=True)
    amount: Mapped[Decimal] = mapped_column(Money)  # signed: negative leaves the wallet
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class IdempotencyRecord(Base):
    """The first answer to an ``Idempotency-Key``, committed with the write it describes."""

    __tablename__ = "idempotency_keys"
    __table_args__ = (PrimaryKeyConstraint("user_id", "key", name="pk_idempotency_keys"),)

    user_id: Mapped[str] = mapped_column(ForeignKey("users.id"))
    key: Mapped[str] = mapped_column(String(255))
    request_hash: Mapped[str] = mapped_column(String(64))
    status_code: Mapped[int] = mapped_column(Integer)
    response: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)

"""The review loop's tables: cases in the analysts' queue, their append-only decision log, the
analysts' notes (append-only too, taken with or without a decision), and the signals users and
the card network send (reports, blocks, chargebacks).

A case is one reason to look at one user: a score flag, a user report, a chargeback or an
appeal. At most one case per (user, source) is not yet decided (a partial unique index), so a
re-sync refreshes the open case instead of stacking duplicates. ``decided`` is terminal; a new
case for the same user and source needs evidence newer than the decision.

The queue sorts on risk, age (``opened_at``) and amount at stake and pages by keyset
(``sort key, id``): each sort has a partial index on ``(key, id)`` over the undecided cases (the
queue's default view says ``status <> 'decided'`` in the same words), so a page is one index
range scan at any depth; decided cases (the history) have their own ``(status, updated_at)``.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import (
    CheckConstraint,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from core_api.db.base import Base, Money, UtcDateTime, id_column_type, new_id, utcnow

SOURCES = ("score", "report", "chargeback", "appeal", "analyst")  # analyst: opened by hand
CASE_STATUSES = ("open", "claimed", "decided", "escalated", "info_requested")
ACTIONS = ("confirm", "clear", "escalate", "request_info", "reverse")
REPORT_REASONS = ("spam", "scam", "fake_account", "harassment", "other")
CHARGEBACK_REASONS = ("fraudulent", "not_received", "not_as_described", "duplicate")
_UNDECIDED = "status <> 'decided'"
MAX_NOTE = 2000  # characters in a note (a decision's or a note's own)


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


class ReviewCase(Base):
    __tablename__ = "review_cases"
    __table_args__ = (
        CheckConstraint(_in("source", SOURCES), name="source"),
        CheckConstraint(_in("status", CASE_STATUSES), name="status"),
        CheckConstraint("amount_at_stake >= 0", name="amount_not_negative"),
        # One undecided case per user and source.
        Index(
            "uq_review_cases_open",
            "user_id",
            "source",
            unique=True,
            sqlite_where=text(_UNDECIDED),
            postgresql_where=text(_UNDECIDED),
        ),
        # The queue's three orders over the undecided cases: a page is one range scan.
        *(
            Index(
                f"ix_review_cases_{name}",
                key,
                "id",
                sqlite_where=text(_UNDECIDED),
                postgresql_where=text(_UNDECIDED),
            )
            for name, key in (("risk", "risk"), ("age", "opened_at"), ("amount", "amount_at_stake"))
        ),
        Index("ix_review_cases_status", "status", "updated_at"),
        Index("ix_review_cases_assignee", "assignee_id", "status"),
        Index("ix_review_cases_user", "user_id", "status"),
    )

    id: Mapped[str] = mapped_column(id_column_type(), primary_key=True, default=new_id)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    source: Mapped[str] = mapped_column(String(16))
    risk: Mapped[float] = mapped_column(Float, default=0.0)
    band: Mapped[str] = mapped_column(String(16), default="low")
    reasons: Mapped[str] = mapped_column(Text, default="")  # one reason a line, in words
    amount_at_stake: Mapped[Decimal] = mapped_column(Money)
    status: Mapped[str] = mapped_column(String(16), default="open")
    assignee_id: Mapped[str | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    opened_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    evidence_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class ReviewDecision(Base):
    """Append-only: a row is never updated or deleted; a reversal is a new row naming the row it
    reverses (no FK on the analyst, so the log outlives a deleted staff account)."""

    __tablename__ = "review_decisions"
    __table_args__ = (
        CheckConstraint(_in("action", ACTIONS), name="action"),
        Index("ix_review_decisions_user_at", "user_id", "at"),
        Index("ix_review_decisions_case_at", "case_id", "at"),
        Index("ix_review_decisions_at", "at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    case_id: Mapped[str] = mapped_column(ForeignKey("review_cases.id", ondelete="CASCADE"))
    user_id: Mapped[str] = mapped_column(id_column_type())
    analyst_id: Mapped[str] = mapped_column(id_column_type())
    action: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str] = mapped_column(String(64))
    note: Mapped[str] = mapped_column(Text, default="")
    at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    reverses: Mapped[int | None] = mapped_column(ForeignKey("review_decisions.id"), unique=True)


class ReviewNote(Base):
    """Append-only: an analyst's note on a case, with or without a decision. ``user_id`` is the
    case's user (copied, so a user's notes read on one index like their decisions); no FK on
    the author, so a note outlives a deleted staff account."""

    __tablename__ = "review_notes"
    __table_args__ = (
        CheckConstraint(f"length(body) BETWEEN 1 AND {MAX_NOTE}", name="body_length"),
        Index("ix_review_notes_case_at", "case_id", "at"),
        Index("ix_review_notes_user_at", "user_id", "at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    case_id: Mapped[str] = mapped_column(ForeignKey("review_cases.id", ondelete="CASCADE"))
    user_id: Mapped[str] = mapped_column(id_column_type())
    author_id: Mapped[str] = mapped_column(id_column_type())
    body: Mapped[str] = mapped_column(Text)
    at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class UserReport(Base):
    __tablename__ = "user_reports"
    __table_args__ = (
        CheckConstraint(_in("reason", REPORT_REASONS), name="reason"),
        CheckConstraint("reporter_id <> reported_id", name="not_self"),
        Index("ix_user_reports_reported_at", "reported_id", "created_at"),
    )

    id: Mapped[str] = mapped_column(id_column_type(), primary_key=True, default=new_id)
    reporter_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    reported_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    reason: Mapped[str] = mapped_column(String(16))
    note: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class UserBlock(Base):
    __tablename__ = "user_blocks"
    __table_args__ = (
        CheckConstraint("blocker_id <> blocked_id", name="not_self"),
        Index("ix_user_blocks_blocked_id", "blocked_id"),
    )

    blocker_id: Mapped[str] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    blocked_id: Mapped[str] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class Chargeback(Base):
    """A chargeback the card network reported (signed webhook); ``network_ref`` makes a
    redelivered notification a no-op."""

    __tablename__ = "chargebacks"
    __table_args__ = (
        CheckConstraint(_in("reason", CHARGEBACK_REASONS), name="reason"),
        CheckConstraint("amount > 0", name="positive"),
        Index("ix_chargebacks_user_at", "user_id", "received_at"),
    )

    id: Mapped[str] = mapped_column(id_column_type(), primary_key=True, default=new_id)
    network_ref: Mapped[str] = mapped_column(String(128), unique=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    transaction_id: Mapped[str | None] = mapped_column(ForeignKey("transactions.id"))
    order_id: Mapped[str | None] = mapped_column(ForeignKey("orders.id"))
    amount: Mapped[Decimal] = mapped_column(Money)
    currency: Mapped[str] = mapped_column(String(3))
    reason: Mapped[str] = mapped_column(String(16))
    received_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)

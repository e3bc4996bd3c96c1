"""Subscriptions: ``subscription_plans``, ``subscriptions``, ``subscription_invoices`` (unique
per subscription and period), the ledger's ``subscription`` transaction kind and the
``subscription`` notification kind.

Widening a CHECK on SQLite copies the table (batch mode); ``core_api.db.engine.upgrade`` turns
foreign keys off meanwhile. A downgrade refuses while subscription money is in the ledger: its
transactions cannot be dropped without unbalancing wallets.

Revision ID: 0010_subscriptions
Revises: 0008_groups
Create Date: 2026-12-07
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010_subscriptions"
down_revision: str | tuple[str, ...] | None = "0009_search"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_TXN = "'deposit', 'transfer', 'payout', 'escrow_hold', 'escrow_release', 'escrow_refund'"
_NOTICE = "'review_decision', 'appeal_outcome', 'order_update', 'new_message', 'payout'"
# (table, constraint, values before, value added): frozen here, as 0002 and 0007 froze theirs.
_WIDENED = (
    ("transactions", "ck_transactions_kind", _TXN, "subscription"),
    ("notifications", "ck_notifications_kind", _NOTICE, "subscription"),
    ("notification_preferences", "ck_notification_preferences_kind", _NOTICE, "subscription"),
)
_LIVE = "status <> 'cancelled'"


def _id(name: str = "id", *, nullable: bool = False) -> sa.Column:
    return sa.Column(name, sa.String(36), nullable=nullable)


def _at(name: str, *, nullable: bool = False) -> sa.Column:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def _money(name: str) -> sa.Column:
    return sa.Column(
        name, sa.Numeric(18, 4).with_variant(sa.BigInteger(), "sqlite"), nullable=False
    )


def _fk(source: str, column: str, table: str) -> sa.Constraint:
    return sa.ForeignKeyConstraint([column], [f"{table}.id"], name=f"fk_{source}_{column}_{table}")


def _check(table: str, name: str, values: str) -> None:
    with op.batch_alter_table(table) as batch:
        batch.drop_constraint(name, type_="check")
        batch.create_check_constraint(name, sa.text(f"kind IN ({values})"))


def upgrade() -> None:
    for table, name, values, added in _WIDENED:
        _check(table, name, f"{values}, '{added}'")
    op.create_table(
        "subscription_plans",
        _id(),
        _id("seller_id"),
        sa.Column("name", sa.String(80), nullable=False),
        _money("price"),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("billing_interval", sa.String(8), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        _at("created_at"),
        sa.CheckConstraint(
            "billing_interval IN ('week', 'month', 'year')", name="ck_subscription_plans_interval"
        ),
        sa.CheckConstraint("price > 0", name="ck_subscription_plans_price_positive"),
        _fk("subscription_plans", "seller_id", "users"),
        sa.PrimaryKeyConstraint("id", name="pk_subscription_plans"),
    )
    op.create_index("ix_subscription_plans_seller_id", "subscription_plans", ["seller_id"])
    op.create_table(
        "subscriptions",
        _id(),
        _id("plan_id"),
        _id("subscriber_id"),
        sa.Column("status", sa.String(10), nullable=False),
        _at("anchor"),
        sa.Column("period", sa.Integer(), nullable=False),
        _at("period_end"),
        _at("next_attempt_at", nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("cancel_at_period_end", sa.Boolean(), nullable=False),
        sa.Column("cancel_reason", sa.String(12), nullable=True),
        _at("cancelled_at", nullable=True),
        _at("created_at"),
        _at("updated_at"),
        sa.CheckConstraint(
            "status IN ('active', 'past_due', 'cancelled')", name="ck_subscriptions_status"
        ),
        sa.CheckConstraint("period >= 0 AND attempts >= 0", name="ck_subscriptions_counters"),
        _fk("subscriptions", "plan_id", "subscription_plans"),
        _fk("subscriptions", "subscriber_id", "users"),
        sa.PrimaryKeyConstraint("id", name="pk_subscriptions"),
    )
    op.create_index("ix_subscriptions_plan_id", "subscriptions", ["plan_id"])
    op.create_index("ix_subscriptions_subscriber_id", "subscriptions", ["subscriber_id"])
    op.create_index("ix_subscriptions_due", "subscriptions", ["status", "next_attempt_at"])
    op.create_index(
        "uq_subscriptions_live",
        "subscriptions",
        ["subscriber_id", "plan_id"],
        unique=True,
        sqlite_where=sa.text(_LIVE),
        postgresql_where=sa.text(_LIVE),
    )
    op.create_table(
        "subscription_invoices",
        _id(),
        _id("subscription_id"),
        sa.Column("period", sa.Integer(), nullable=False),
        _money("amount"),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("status", sa.String(6), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("failure", sa.String(24), nullable=True),
        _id("transaction_id", nullable=True),
        _at("created_at"),
        _at("paid_at", nullable=True),
        sa.UniqueConstraint("subscription_id", "period", name="uq_subscription_invoices_period"),
        sa.CheckConstraint(
            "status IN ('open', 'paid', 'void')", name="ck_subscription_invoices_status"
        ),
        sa.CheckConstraint("amount > 0", name="ck_subscription_invoices_amount_positive"),
        _fk("subscription_invoices", "subscription_id", "subscriptions"),
        _fk("subscription_invoices", "transaction_id", "transactions"),
        sa.PrimaryKeyConstraint("id", name="pk_subscription_invoices"),
    )


def downgrade() -> None:
    moved = op.get_bind().execute(
        sa.text("SELECT count(*) FROM transactions WHERE kind = 'subscription'")
    )
    if moved.scalar_one():
        raise RuntimeError("subscription charges are in the ledger: refusing to drop them")
    op.drop_table("subscription_invoices")
    op.drop_index("uq_subscriptions_live", table_name="subscriptions")
    op.drop_table("subscriptions")
    op.drop_table("subscription_plans")
    for table in ("notifications", "notification_preferences"):
        op.execute(f"DELETE FROM {table} WHERE kind = 'subscription'")
    for table, name, values, _added in _WIDENED:
        _check(table, name, values)

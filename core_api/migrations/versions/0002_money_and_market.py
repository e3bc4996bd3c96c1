"""Payments (wallets, ledger transactions and entries, idempotency keys) and the marketplace
(listings, orders, reviews).

Revision ID: 0002_money_and_market
Revises: 0001
Create Date: 2026-11-27
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002_money_and_market"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Frozen DDL (see 0001). Money: NUMERIC(18, 4), integer ten-thousandths on SQLite.
MONEY = sa.Numeric(18, 4).with_variant(sa.BigInteger(), "sqlite")
SERIAL = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _id(name: str = "id", *, nullable: bool = False) -> sa.Column:
    return sa.Column(name, sa.String(36), nullable=nullable)


def _at(name: str) -> sa.Column:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=False)


def _fk(source: str, column: str, table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint([column], [f"{table}.id"], name=f"fk_{source}_{column}_{table}")


def _index(table: str, *columns: str) -> None:
    op.create_index(f"ix_{table}_{columns[0]}", table, list(columns))


def upgrade() -> None:
    op.create_table(
        "wallets",
        _id(),
        sa.Column("key", sa.String(64), nullable=False),
        sa.Column("kind", sa.String(8), nullable=False),
        _id("owner_id", nullable=True),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("balance", MONEY, nullable=False),
        _at("created_at"),
        _at("updated_at"),
        sa.CheckConstraint("kind IN ('user', 'escrow', 'external')", name="ck_wallets_kind"),
        sa.CheckConstraint("kind = 'external' OR balance >= 0", name="ck_wallets_not_negative"),
        _fk("wallets", "owner_id", "users"),
        sa.PrimaryKeyConstraint("id", name="pk_wallets"),
        sa.UniqueConstraint("key", name="uq_wallets_key"),
    )
    _index("wallets", "owner_id")
    op.create_table(
        "listings",
        _id(),
        _id("seller_id"),
        sa.Column("title", sa.String(120), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("category", sa.String(16), nullable=False),
        sa.Column("item_condition", sa.String(8), nullable=False),
        sa.Column("price", MONEY, nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("lat", sa.Float(), nullable=False),
        sa.Column("lon", sa.Float(), nullable=False),
        sa.Column("ships_from", sa.String(2), nullable=True),
        sa.Column("status", sa.String(12), nullable=False),
        _at("created_at"),
        _at("updated_at"),
        sa.CheckConstraint(
            "status IN ('active', 'sold_out', 'withdrawn')", name="ck_listings_status"
        ),
        sa.CheckConstraint("price > 0", name="ck_listings_price_positive"),
        sa.CheckConstraint("quantity >= 0", name="ck_listings_quantity"),
        _fk("listings", "seller_id", "users"),
        sa.PrimaryKeyConstraint("id", name="pk_listings"),
    )
    _index("listings", "seller_id")
    op.create_index("ix_listings_status_category", "listings", ["status", "category"])
    op.create_table(
        "orders",
        _id(),
        _id("listing_id"),
        _id("buyer_id"),
        _id("seller_id"),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("amount", MONEY, nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("status", sa.String(12), nullable=False),
        sa.Column("disputed_from", sa.String(12), nullable=True),
        sa.Column("dispute_reason", sa.String(20), nullable=True),
        _at("created_at"),
        _at("updated_at"),
        sa.CheckConstraint(
            "status IN ('pending', 'paid', 'shipped', 'delivered', 'cancelled', 'disputed', "
            "'refunded')",
            name="ck_orders_status",
        ),
        sa.CheckConstraint("quantity >= 1", name="ck_orders_quantity"),
        _fk("orders", "listing_id", "listings"),
        _fk("orders", "buyer_id", "users"),
        _fk("orders", "seller_id", "users"),
        sa.PrimaryKeyConstraint("id", name="pk_orders"),
    )
    for column in ("listing_id", "buyer_id", "seller_id"):
        _index("orders", column)
    op.create_table(
        "reviews",
        _id(),
        _id("order_id"),
        _id("reviewer_id"),
        _id("reviewee_id"),
        sa.Column("rating", sa.Integer(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        _at("created_at"),
        sa.CheckConstraint("rating BETWEEN 1 AND 5", name="ck_reviews_rating"),
        _fk("reviews", "order_id", "orders"),
        _fk("reviews", "reviewer_id", "users"),
        _fk("reviews", "reviewee_id", "users"),
        sa.PrimaryKeyConstraint("id", name="pk_reviews"),
        sa.UniqueConstraint("order_id", "reviewer_id", name="uq_reviews_order_reviewer"),
    )
    _index("reviews", "reviewee_id")
    op.create_table(
        "transactions",
        _id(),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("amount", MONEY, nullable=False),
        _id("initiator_id", nullable=True),
        _id("order_id", nullable=True),
        sa.Column("reference", sa.String(128), nullable=True),
        _at("created_at"),
        sa.CheckConstraint(
            "kind IN ('deposit', 'transfer', 'payout', 'escrow_hold', 'escrow_release', "
            "'escrow_refund')",
            name="ck_transactions_kind",
        ),
        sa.CheckConstraint("amount > 0", name="ck_transactions_positive"),
        _fk("transactions", "initiator_id", "users"),
        _fk("transactions", "order_id", "orders"),
        sa.PrimaryKeyConstraint("id", name="pk_transactions"),
    )
    _index("transactions", "initiator_id")
    _index("transactions", "order_id")
    op.create_table(
        "entries",
        sa.Column("id", SERIAL, autoincrement=True, nullable=False),
        _id("transaction_id"),
        _id("wallet_id"),
        sa.Column("amount", MONEY, nullable=False),
        _at("created_at"),
        sa.CheckConstraint("amount <> 0", name="ck_entries_non_zero"),
        _fk("entries", "transaction_id", "transactions"),
        _fk("entries", "wallet_id", "wallets"),
        sa.PrimaryKeyConstraint("id", name="pk_entries"),
    )
    _index("entries", "transaction_id")
    _index("entries", "wallet_id")
    op.create_table(
        "idempotency_keys",
        _id("user_id"),
        sa.Column("key", sa.String(255), nullable=False),
        sa.Column("request_hash", sa.String(64), nullable=False),
        sa.Column("status_code", sa.Integer(), nullable=False),
        sa.Column("response", sa.Text(), nullable=False),
        _at("created_at"),
        _fk("idempotency_keys", "user_id", "users"),
        sa.PrimaryKeyConstraint("user_id", "key", name="pk_idempotency_keys"),
    )


def downgrade() -> None:
    for table in (
        "idempotency_keys",
        "entries",
        "transactions",
        "reviews",
        "orders",
        "listings",
        "wallets",
    ):
        op.drop_table(table)

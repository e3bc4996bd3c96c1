"""Identity (users, devices, sessions, refresh tokens, one-time codes, dev messages) and outbox.

Revision ID: 0001
Revises:
Create Date: 2026-11-26
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


# Migrations are frozen DDL: plain column types here, never the application's TypeDecorators,
# so later code changes cannot rewrite history.
def _id(name: str = "id") -> sa.Column:
    return sa.Column(name, sa.String(36), nullable=False)


def _at(name: str, *, nullable: bool = False) -> sa.Column:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def _fk(column: str, table: str, *, ondelete: str, source: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        [column], [f"{table}.id"], name=f"fk_{source}_{column}_{table}", ondelete=ondelete
    )


def upgrade() -> None:
    op.create_table(
        "users",
        _id(),
        sa.Column("email", sa.String(254), nullable=False),
        sa.Column("password_hash", sa.String(255), nullable=False),
        sa.Column("display_name", sa.String(80), nullable=False),
        sa.Column("bio", sa.Text(), nullable=False),
        sa.Column("phone", sa.String(20), nullable=True),
        sa.Column("status", sa.String(16), nullable=False),
        _at("email_verified_at", nullable=True),
        _at("phone_verified_at", nullable=True),
        _at("created_at"),
        _at("updated_at"),
        sa.CheckConstraint(
            "status IN ('active', 'restricted', 'suspended', 'banned', 'closed')",
            name="ck_users_status",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_users"),
        sa.UniqueConstraint("email", name="uq_users_email"),
    )
    op.create_table(
        "devices",
        _id(),
        _id("user_id"),
        sa.Column("fingerprint", sa.String(128), nullable=False),
        sa.Column("platform", sa.String(16), nullable=False),
        _at("first_seen_at"),
        _at("last_seen_at"),
        sa.Column("last_ip", sa.String(45), nullable=True),
        _fk("user_id", "users", ondelete="CASCADE", source="devices"),
        sa.PrimaryKeyConstraint("id", name="pk_devices"),
        sa.UniqueConstraint("user_id", "fingerprint", name="uq_devices_user_print"),
    )
    op.create_table(
        "auth_sessions",
        _id(),
        _id("user_id"),
        sa.Column("device_id", sa.String(36), nullable=True),
        _at("created_at"),
        _at("mfa_at", nullable=True),
        _at("revoked_at", nullable=True),
        sa.Column("revoked_reason", sa.String(32), nullable=True),
        _fk("device_id", "devices", ondelete="SET NULL", source="auth_sessions"),
        _fk("user_id", "users", ondelete="CASCADE", source="auth_sessions"),
        sa.PrimaryKeyConstraint("id", name="pk_auth_sessions"),
    )
    op.create_index("ix_auth_sessions_user_id", "auth_sessions", ["user_id"])
    op.create_table(
        "refresh_tokens",
        _id(),
        _id("session_id"),
        sa.Column("token_hash", sa.String(64), nullable=False),
        _at("issued_at"),
        _at("expires_at"),
        _at("used_at", nullable=True),
        _fk("session_id", "auth_sessions", ondelete="CASCADE", source="refresh_tokens"),
        sa.PrimaryKeyConstraint("id", name="pk_refresh_tokens"),
        sa.UniqueConstraint("token_hash", name="uq_refresh_tokens_token_hash"),
    )
    op.create_index("ix_refresh_tokens_session_id", "refresh_tokens", ["session_id"])
    op.create_table(
        "one_time_codes",
        _id(),
        _id("user_id"),
        sa.Column("purpose", sa.String(16), nullable=False),
        sa.Column("destination", sa.String(254), nullable=False),
        sa.Column("code_hash", sa.String(64), nullable=False),
        _at("created_at"),
        _at("expires_at"),
        sa.Column("attempts", sa.Integer(), nullable=False),
        _at("consumed_at", nullable=True),
        _fk("user_id", "users", ondelete="CASCADE", source="one_time_codes"),
        sa.PrimaryKeyConstraint("id", name="pk_one_time_codes"),
    )
    op.create_index("ix_one_time_codes_user_purpose", "one_time_codes", ["user_id", "purpose"])
    op.create_table(
        "dev_messages",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("channel", sa.String(8), nullable=False),
        sa.Column("recipient", sa.String(254), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        _at("created_at"),
        sa.PrimaryKeyConstraint("id", name="pk_dev_messages"),
    )
    op.create_index("ix_dev_messages_recipient", "dev_messages", ["recipient"])
    op.create_table(
        "outbox",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        _id("event_id"),
        sa.Column("event_type", sa.String(40), nullable=False),
        _at("occurred_at"),
        sa.Column("line", sa.LargeBinary(), nullable=False),
        _at("created_at"),
        _at("delivered_at", nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_outbox"),
        sa.UniqueConstraint("event_id", name="uq_outbox_event_id"),
    )
    op.create_index("ix_outbox_pending", "outbox", ["delivered_at", "id"])


def downgrade() -> None:
    for table in (
        "outbox",
        "dev_messages",
        "one_time_codes",
        "refresh_tokens",
        "auth_sessions",
        "devices",
        "users",
    ):
        op.drop_table(table)

"""The review loop: staff roles ``analyst`` and ``senior_analyst``, review cases, the
append-only decision log, user reports and blocks, chargebacks, and an index on device
fingerprints (the console searches cases by device).

Revision ID: 0005_review
Revises: 0002_money_and_market, 0003_social_collab_admin
Create Date: 2026-12-07
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005_review"
# Merges the two: roles live in 0003's tables, chargebacks reference 0002's.
down_revision: str | tuple[str, ...] | None = ("0002_money_and_market", "0003_social_collab_admin")
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Frozen DDL: plain column types, never the application's TypeDecorators.
MONEY = sa.Numeric(18, 4).with_variant(sa.BigInteger(), "sqlite")
OLD_ROLES = "role IN ('admin')"
NEW_ROLES = "role IN ('admin', 'analyst', 'senior_analyst')"
UNDECIDED = sa.text("status <> 'decided'")


def _id(name: str = "id", *, nullable: bool = False) -> sa.Column:
    return sa.Column(name, sa.String(36), nullable=nullable)


def _at(name: str) -> sa.Column:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=False)


def _fk(source: str, column: str, table: str, *, ondelete: str | None = "CASCADE") -> sa.Constraint:
    return sa.ForeignKeyConstraint(
        [column], [f"{table}.id"], name=f"fk_{source}_{column}_{table}", ondelete=ondelete
    )


def _roles(check: str) -> None:
    with op.batch_alter_table("role_grants") as batch:
        batch.drop_constraint("ck_role_grants_role", type_="check")
        batch.create_check_constraint("ck_role_grants_role", check)


def _cases() -> None:
    op.create_table(
        "review_cases",
        _id(),
        _id("user_id"),
        sa.Column("source", sa.String(16), nullable=False),
        sa.Column("risk", sa.Float(), nullable=False),
        sa.Column("band", sa.String(16), nullable=False),
        sa.Column("reasons", sa.Text(), nullable=False),
        sa.Column("amount_at_stake", MONEY, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        _id("assignee_id", nullable=True),
        _at("opened_at"),
        _at("evidence_at"),
        _at("updated_at"),
        sa.CheckConstraint(
            "source IN ('score', 'report', 'chargeback', 'appeal')", name="ck_review_cases_source"
        ),
        sa.CheckConstraint(
            "status IN ('open', 'claimed', 'decided', 'escalated', 'info_requested')",
            name="ck_review_cases_status",
        ),
        sa.CheckConstraint("amount_at_stake >= 0", name="ck_review_cases_amount_not_negative"),
        _fk("review_cases", "user_id", "users"),
        _fk("review_cases", "assignee_id", "users", ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id", name="pk_review_cases"),
    )
    op.create_index(
        "uq_review_cases_open",
        "review_cases",
        ["user_id", "source"],
        unique=True,
        sqlite_where=UNDECIDED,
        postgresql_where=UNDECIDED,
    )
    for name, key in (("risk", "risk"), ("age", "opened_at"), ("amount", "amount_at_stake")):
        op.create_index(
            f"ix_review_cases_{name}",
            "review_cases",
            [key, "id"],
            sqlite_where=UNDECIDED,
            postgresql_where=UNDECIDED,
        )
    for name, columns in (
        ("status", ["status", "updated_at"]),
        ("assignee", ["assignee_id", "status"]),
        ("user", ["user_id", "status"]),
    ):
        op.create_index(f"ix_review_cases_{name}", "review_cases", columns)
    op.create_table(
        "review_decisions",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        _id("case_id"),
        _id("user_id"),
        _id("analyst_id"),
        sa.Column("action", sa.String(16), nullable=False),
        sa.Column("reason", sa.String(64), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        _at("at"),
        sa.Column("reverses", sa.Integer(), nullable=True),
        sa.CheckConstraint(
            "action IN ('confirm', 'clear', 'escalate', 'request_info', 'reverse')",
            name="ck_review_decisions_action",
        ),
        _fk("review_decisions", "case_id", "review_cases"),
        sa.ForeignKeyConstraint(
            ["reverses"],
            ["review_decisions.id"],
            name="fk_review_decisions_reverses_review_decisions",
        ),
        sa.UniqueConstraint("reverses", name="uq_review_decisions_reverses"),
        sa.PrimaryKeyConstraint("id", name="pk_review_decisions"),
    )
    op.create_index("ix_review_decisions_user_at", "review_decisions", ["user_id", "at"])
    op.create_index("ix_review_decisions_case_at", "review_decisions", ["case_id", "at"])
    op.create_index("ix_review_decisions_at", "review_decisions", ["at"])


def _signals() -> None:
    op.create_table(
        "user_reports",
        _id(),
        _id("reporter_id"),
        _id("reported_id"),
        sa.Column("reason", sa.String(16), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        _at("created_at"),
        sa.CheckConstraint(
            "reason IN ('spam', 'scam', 'fake_account', 'harassment', 'other')",
            name="ck_user_reports_reason",
        ),
        sa.CheckConstraint("reporter_id <> reported_id", name="ck_user_reports_not_self"),
        _fk("user_reports", "reporter_id", "users"),
        _fk("user_reports", "reported_id", "users"),
        sa.PrimaryKeyConstraint("id", name="pk_user_reports"),
    )
    op.create_index("ix_user_reports_reported_at", "user_reports", ["reported_id", "created_at"])
    op.create_table(
        "user_blocks",
        _id("blocker_id"),
        _id("blocked_id"),
        _at("created_at"),
        sa.CheckConstraint("blocker_id <> blocked_id", name="ck_user_blocks_not_self"),
        _fk("user_blocks", "blocker_id", "users"),
        _fk("user_blocks", "blocked_id", "users"),
        sa.PrimaryKeyConstraint("blocker_id", "blocked_id", name="pk_user_blocks"),
    )
    op.create_index("ix_user_blocks_blocked_id", "user_blocks", ["blocked_id"])
    op.create_table(
        "chargebacks",
        _id(),
        sa.Column("network_ref", sa.String(128), nullable=False),
        _id("user_id"),
        _id("transaction_id", nullable=True),
        _id("order_id", nullable=True),
        sa.Column("amount", MONEY, nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("reason", sa.String(16), nullable=False),
        _at("received_at"),
        sa.CheckConstraint(
            "reason IN ('fraudulent', 'not_received', 'not_as_described', 'duplicate')",
            name="ck_chargebacks_reason",
        ),
        sa.CheckConstraint("amount > 0", name="ck_chargebacks_positive"),
        _fk("chargebacks", "user_id", "users"),
        _fk("chargebacks", "transaction_id", "transactions", ondelete=None),
        _fk("chargebacks", "order_id", "orders", ondelete=None),
        sa.UniqueConstraint("network_ref", name="uq_chargebacks_network_ref"),
        sa.PrimaryKeyConstraint("id", name="pk_chargebacks"),
    )
    op.create_index("ix_chargebacks_user_at", "chargebacks", ["user_id", "received_at"])


def upgrade() -> None:
    _roles(NEW_ROLES)
    _cases()
    _signals()
    op.create_index("ix_devices_fingerprint", "devices", ["fingerprint"])


def downgrade() -> None:
    op.drop_index("ix_devices_fingerprint", table_name="devices")
    for table in ("chargebacks", "user_blocks", "user_reports", "review_decisions", "review_cases"):
        op.drop_table(table)
    op.execute("DELETE FROM role_grants WHERE role <> 'admin'")
    _roles(OLD_ROLES)

"""The blueprint's schema gaps: users' username (unique), avatar_url, dob and country; devices'
trust_level; a ``verifications`` table in place of ``users.email_verified_at`` and
``phone_verified_at`` (their data moves into it); posts' media URLs and last edit; messages'
media and sent/read status; ``escrows`` beside the escrow wallet (backfilled from the ledger);
projects' description.

SQLite alters a table by copying it (batch mode) where it cannot ALTER in place: dropping the
two columns of ``users``, and the new CHECKs of ``devices`` and ``messages``.
``core_api.db.engine.upgrade`` turns foreign keys off meanwhile. The copy keeps each CHECK's
name as the database has it. CHECK names spelled here, like every migration's since 0001, come
out through the models' naming convention ("ck_messages_status" is created as
ck_messages_ck_messages_status, on both databases), so a later ``drop_constraint`` spells them
the same way.

Revision ID: 0012_schema_gaps
Revises: 0011_files
Create Date: 2026-12-07
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012_schema_gaps"
down_revision: str | tuple[str, ...] | None = "0011_files"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

PROOFS = (("email", "email_verified_at"), ("phone", "phone_verified_at"))
# Money: NUMERIC(18, 4) on PostgreSQL, integer ten-thousandths on SQLite (as 0002).
MONEY = sa.Numeric(18, 4).with_variant(sa.BigInteger(), "sqlite")
SETTLED = {"escrow_release": "released", "escrow_refund": "refunded"}


def _at(name: str, *, nullable: bool = True) -> sa.Column:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def _fk(source: str, column: str, table: str, *, ondelete: str | None = None) -> sa.Constraint:
    return sa.ForeignKeyConstraint(
        [column], [f"{table}.id"], name=f"fk_{source}_{column}_{table}", ondelete=ondelete
    )


def _media() -> sa.Column:
    return sa.Column("media_urls", sa.JSON(), nullable=False, server_default=sa.text("'[]'"))


def upgrade() -> None:
    _verifications()
    with op.batch_alter_table("users") as batch:
        batch.add_column(sa.Column("username", sa.String(30), nullable=True))
        batch.add_column(sa.Column("avatar_url", sa.String(2048), nullable=True))
        batch.add_column(sa.Column("dob", sa.Date(), nullable=True))
        batch.add_column(sa.Column("country", sa.String(2), nullable=True))
        batch.drop_column("email_verified_at")
        batch.drop_column("phone_verified_at")
    op.create_index("ix_users_username", "users", ["username"], unique=True)
    with op.batch_alter_table("devices") as batch:
        batch.add_column(
            sa.Column("trust_level", sa.String(8), nullable=False, server_default="new")
        )
        batch.create_check_constraint(
            "ck_devices_trust_level", "trust_level IN ('new', 'known', 'trusted')"
        )
    op.execute("UPDATE devices SET trust_level = 'known'")  # seen before this migration
    with op.batch_alter_table("posts") as batch:
        batch.add_column(_media())
        batch.add_column(_at("updated_at"))
    with op.batch_alter_table("messages") as batch:
        batch.add_column(_media())
        batch.add_column(sa.Column("status", sa.String(8), nullable=False, server_default="sent"))
        batch.add_column(_at("read_at"))
        batch.create_check_constraint("ck_messages_status", "status IN ('sent', 'read')")
    with op.batch_alter_table("projects") as batch:
        batch.add_column(sa.Column("description", sa.Text(), nullable=False, server_default=""))
    _escrows()


def _verifications() -> None:
    op.create_table(
        "verifications",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("user_id", sa.String(36), nullable=False),
        sa.Column("kind", sa.String(12), nullable=False),
        sa.Column("status", sa.String(8), nullable=False),
        sa.Column("metadata", sa.JSON(), nullable=False),
        _at("created_at", nullable=False),
        _at("decided_at"),
        sa.CheckConstraint(
            "kind IN ('email', 'phone', 'kyc', 'document', 'biometric')",
            name="ck_verifications_kind",
        ),
        sa.CheckConstraint(
            "status IN ('pending', 'verified', 'rejected')", name="ck_verifications_status"
        ),
        _fk("verifications", "user_id", "users", ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name="pk_verifications"),
        sa.UniqueConstraint("user_id", "kind", name="uq_verifications_user_kind"),
    )
    users = sa.table("users", *(sa.column(n) for n in ("id", *(c for _, c in PROOFS))))
    # Times pass through as the database returned them (SQLite: text; PostgreSQL: timestamps).
    rows = sa.table(
        "verifications",
        *(sa.column(n) for n in ("id", "user_id", "kind", "status", "created_at", "decided_at")),
        sa.column("metadata", sa.JSON()),
    )
    connection = op.get_bind()
    for kind, column in PROOFS:
        found = connection.execute(
            sa.select(users.c.id, users.c[column]).where(users.c[column].is_not(None))
        ).all()
        if found:
            connection.execute(
                rows.insert(),
                [
                    {
                        "id": str(uuid.uuid4()),
                        "user_id": user_id,
                        "kind": kind,
                        "status": "verified",
                        "metadata": {},
                        "created_at": at,
                        "decided_at": at,
                    }
                    for user_id, at in found
                ],
            )


def _escrows() -> None:
    op.create_table(
        "escrows",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("order_id", sa.String(36), nullable=False),
        sa.Column("amount", MONEY, nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("status", sa.String(8), nullable=False),
        sa.Column("hold_transaction_id", sa.String(36), nullable=False),
        sa.Column("settle_transaction_id", sa.String(36), nullable=True),
        _at("held_at", nullable=False),
        _at("settled_at"),
        sa.CheckConstraint("status IN ('held', 'released', 'refunded')", name="ck_escrows_status"),
        sa.CheckConstraint("amount > 0", name="ck_escrows_positive"),
        _fk("escrows", "order_id", "orders"),
        _fk("escrows", "hold_transaction_id", "transactions"),
        _fk("escrows", "settle_transaction_id", "transactions"),
        sa.PrimaryKeyConstraint("id", name="pk_escrows"),
        sa.UniqueConstraint("order_id", name="uq_escrows_order_id"),
    )
    # The ledger already says it all: a hold per paid order, then a release or a refund.
    txns = sa.table(
        "transactions",
        *(sa.column(n) for n in ("id", "kind", "order_id", "amount", "currency", "created_at")),
    )
    connection = op.get_bind()
    moves = connection.execute(
        sa.select(txns)
        .where(txns.c.order_id.is_not(None), txns.c.kind.like("escrow_%"))
        .order_by(txns.c.created_at, txns.c.id)
    ).all()
    escrows: dict[str, dict[str, object]] = {}
    for move in moves:
        if move.kind == "escrow_hold":
            escrows[move.order_id] = {
                "id": str(uuid.uuid4()),
                "order_id": move.order_id,
                "amount": move.amount,
                "currency": move.currency,
                "status": "held",
                "hold_transaction_id": move.id,
                "settle_transaction_id": None,
                "held_at": move.created_at,
                "settled_at": None,
            }
        elif move.order_id in escrows:
            escrows[move.order_id].update(
                status=SETTLED[move.kind],
                settle_transaction_id=move.id,
                settled_at=move.created_at,
            )
    if escrows:
        table = sa.table("escrows", *(sa.column(n) for n in next(iter(escrows.values()))))
        connection.execute(table.insert(), list(escrows.values()))


def downgrade() -> None:
    op.drop_table("escrows")
    with op.batch_alter_table("projects") as batch:
        batch.drop_column("description")
    with op.batch_alter_table("messages") as batch:
        batch.drop_constraint("ck_messages_status", type_="check")
        for column in ("read_at", "status", "media_urls"):
            batch.drop_column(column)
    with op.batch_alter_table("posts") as batch:
        batch.drop_column("updated_at")
        batch.drop_column("media_urls")
    with op.batch_alter_table("devices") as batch:
        batch.drop_constraint("ck_devices_trust_level", type_="check")
        batch.drop_column("trust_level")
    op.drop_index("ix_users_username", table_name="users")
    with op.batch_alter_table("users") as batch:
        for column in ("country", "dob", "avatar_url", "username"):
            batch.drop_column(column)
        batch.add_column(_at("email_verified_at"))
        batch.add_column(_at("phone_verified_at"))
    for kind, column in PROOFS:
        op.execute(
            f"UPDATE users SET {column} = (SELECT decided_at FROM verifications v "
            f"WHERE v.user_id = users.id AND v.kind = '{kind}' AND v.status = 'verified')"
        )
    op.drop_table("verifications")

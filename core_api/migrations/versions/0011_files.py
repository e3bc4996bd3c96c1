"""Attachments: ``files``, one row per stored file on exactly one task, message or listing.

Revision ID: 0011_files
Revises: 0008_groups
Create Date: 2026-12-07
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011_files"
down_revision: str | tuple[str, ...] | None = "0010_subscriptions"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Frozen here (core_api.db.files.ONE_PARENT may grow a parent in a later migration).
ONE_PARENT = (
    "(CASE WHEN task_id IS NULL THEN 0 ELSE 1 END) + "
    "(CASE WHEN message_id IS NULL THEN 0 ELSE 1 END) + "
    "(CASE WHEN listing_id IS NULL THEN 0 ELSE 1 END) = 1"
)


def _fk(column: str, table: str) -> sa.Constraint:
    return sa.ForeignKeyConstraint(
        [column], [f"{table}.id"], name=f"fk_files_{column}_{table}", ondelete="CASCADE"
    )


def upgrade() -> None:
    op.create_table(
        "files",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("owner_id", sa.String(36), nullable=False),
        sa.Column("task_id", sa.String(36), nullable=True),
        sa.Column("message_id", sa.String(36), nullable=True),
        sa.Column("listing_id", sa.String(36), nullable=True),
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("content_type", sa.String(64), nullable=False),
        sa.Column("size_bytes", sa.BigInteger(), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("storage_key", sa.String(128), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(ONE_PARENT, name="ck_files_one_parent"),
        sa.CheckConstraint("size_bytes > 0", name="ck_files_size_positive"),
        _fk("owner_id", "users"),
        _fk("task_id", "tasks"),
        _fk("message_id", "messages"),
        _fk("listing_id", "listings"),
        sa.PrimaryKeyConstraint("id", name="pk_files"),
        sa.UniqueConstraint("storage_key", name="uq_files_storage_key"),
    )
    op.create_index("ix_files_owner_id", "files", ["owner_id"])
    op.create_index("ix_files_task_created", "files", ["task_id", "created_at"])
    op.create_index("ix_files_message_created", "files", ["message_id", "created_at"])
    op.create_index("ix_files_listing_created", "files", ["listing_id", "created_at"])
    op.create_index("ix_files_sha256", "files", ["sha256"])


def downgrade() -> None:
    for name in ("sha256", "listing_created", "message_created", "task_created", "owner_id"):
        op.drop_index(f"ix_files_{name}", table_name="files")
    op.drop_table("files")

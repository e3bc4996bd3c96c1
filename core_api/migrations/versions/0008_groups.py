"""Groups and communities: ``groups``, ``group_members``, ``group_join_requests``, and
``posts.group_id`` (a group's posts are posts, so one visibility condition covers them).

SQLite adds the foreign-keyed column by copying ``posts`` (batch mode);
``core_api.db.engine.upgrade`` turns foreign keys off meanwhile, or dropping the old table would
cascade to every like and comment.

Revision ID: 0008_groups
Revises: 0007_notifications
Create Date: 2026-12-07
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008_groups"
down_revision: str | tuple[str, ...] | None = "0007_notifications"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _id(name: str = "id", *, nullable: bool = False) -> sa.Column:
    return sa.Column(name, sa.String(36), nullable=nullable)


def _fk(source: str, column: str, table: str, *, ondelete: str = "CASCADE") -> sa.Constraint:
    return sa.ForeignKeyConstraint(
        [column], [f"{table}.id"], name=f"fk_{source}_{column}_{table}", ondelete=ondelete
    )


def upgrade() -> None:
    op.create_table(
        "groups",
        _id(),
        sa.Column("name", sa.String(80), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("join_policy", sa.String(8), nullable=False),
        sa.Column("min_trust", sa.Float(), nullable=False),
        _id("created_by", nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("join_policy IN ('open', 'request')", name="ck_groups_join_policy"),
        sa.CheckConstraint("min_trust >= 0 AND min_trust <= 1", name="ck_groups_min_trust"),
        _fk("groups", "created_by", "users", ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id", name="pk_groups"),
    )
    op.create_table(
        "group_members",
        _id("group_id"),
        _id("user_id"),
        sa.Column("role", sa.String(12), nullable=False),
        sa.Column("joined_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "role IN ('member', 'moderator', 'owner')", name="ck_group_members_role"
        ),
        _fk("group_members", "group_id", "groups"),
        _fk("group_members", "user_id", "users"),
        sa.PrimaryKeyConstraint("group_id", "user_id", name="pk_group_members"),
    )
    op.create_index("ix_group_members_user_id", "group_members", ["user_id"])
    op.create_table(
        "group_join_requests",
        _id("group_id"),
        _id("user_id"),
        sa.Column("status", sa.String(8), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        _id("decided_by", nullable=True),
        sa.CheckConstraint(
            "status IN ('pending', 'approved', 'rejected')", name="ck_group_join_requests_status"
        ),
        _fk("group_join_requests", "group_id", "groups"),
        _fk("group_join_requests", "user_id", "users"),
        _fk("group_join_requests", "decided_by", "users", ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("group_id", "user_id", name="pk_group_join_requests"),
    )
    op.create_index("ix_group_join_requests_user_id", "group_join_requests", ["user_id"])
    with op.batch_alter_table("posts") as batch:
        batch.add_column(_id("group_id", nullable=True))
        batch.create_foreign_key(
            "fk_posts_group_id_groups", "groups", ["group_id"], ["id"], ondelete="CASCADE"
        )
    op.create_index("ix_posts_group_created", "posts", ["group_id", "created_at"])


def downgrade() -> None:
    op.drop_index("ix_posts_group_created", table_name="posts")
    op.execute("DELETE FROM posts WHERE group_id IS NOT NULL")  # a group's posts go with it
    with op.batch_alter_table("posts") as batch:
        batch.drop_constraint("fk_posts_group_id_groups", type_="foreignkey")
        batch.drop_column("group_id")
    op.drop_table("group_join_requests")
    op.drop_table("group_members")
    op.drop_table("groups")

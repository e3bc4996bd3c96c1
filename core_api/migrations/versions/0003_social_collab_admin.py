"""Social (posts, follows, likes, comments, conversations, messages, trust edges),
collaboration (workspaces, members, projects, tasks) and admin (roles, status audit, appeals).

Revision ID: 0003_social_collab_admin
Revises: 0001
Create Date: 2026-11-27
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003_social_collab_admin"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


# Frozen DDL: plain column types, never the application's TypeDecorators.
def _id(name: str = "id", *, nullable: bool = False) -> sa.Column:
    return sa.Column(name, sa.String(36), nullable=nullable)


def _at(name: str = "created_at") -> sa.Column:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=False)


def _fk(source: str, column: str, table: str, *, ondelete: str = "CASCADE") -> sa.Constraint:
    return sa.ForeignKeyConstraint(
        [column], [f"{table}.id"], name=f"fk_{source}_{column}_{table}", ondelete=ondelete
    )


def _pk(table: str, *columns: str) -> sa.Constraint:
    return sa.PrimaryKeyConstraint(*columns, name=f"pk_{table}")


def _social() -> None:
    op.create_table(
        "posts",
        _id(),
        _id("author_id"),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("topic", sa.String(16), nullable=False),
        sa.Column("visibility", sa.String(8), nullable=False),
        _at(),
        sa.CheckConstraint(
            "visibility IN ('public', 'friends', 'private')", name="ck_posts_visibility"
        ),
        _fk("posts", "author_id", "users"),
        _pk("posts", "id"),
    )
    op.create_index("ix_posts_author_created", "posts", ["author_id", "created_at"])
    op.create_table(
        "follows",
        _id("follower_id"),
        _id("followee_id"),
        _at(),
        sa.CheckConstraint("follower_id <> followee_id", name="ck_follows_not_self"),
        _fk("follows", "follower_id", "users"),
        _fk("follows", "followee_id", "users"),
        _pk("follows", "follower_id", "followee_id"),
    )
    op.create_index("ix_follows_followee_id", "follows", ["followee_id"])
    op.create_table(
        "post_likes",
        _id("post_id"),
        _id("user_id"),
        _at(),
        _fk("post_likes", "post_id", "posts"),
        _fk("post_likes", "user_id", "users"),
        _pk("post_likes", "post_id", "user_id"),
    )
    op.create_table(
        "comments",
        _id(),
        _id("post_id"),
        _id("author_id"),
        sa.Column("body", sa.Text(), nullable=False),
        _at(),
        _fk("comments", "post_id", "posts"),
        _fk("comments", "author_id", "users"),
        _pk("comments", "id"),
    )
    op.create_index("ix_comments_post_created", "comments", ["post_id", "created_at"])
    op.create_table(
        "conversations",
        _id(),
        _id("created_by"),
        _at(),
        _fk("conversations", "created_by", "users"),
        _pk("conversations", "id"),
    )
    op.create_table(
        "conversation_members",
        _id("conversation_id"),
        _id("user_id"),
        _fk("conversation_members", "conversation_id", "conversations"),
        _fk("conversation_members", "user_id", "users"),
        _pk("conversation_members", "conversation_id", "user_id"),
    )
    op.create_index("ix_conversation_members_user_id", "conversation_members", ["user_id"])
    op.create_table(
        "messages",
        _id(),
        _id("conversation_id"),
        _id("sender_id"),
        sa.Column("body", sa.Text(), nullable=False),
        _at(),
        _fk("messages", "conversation_id", "conversations"),
        _fk("messages", "sender_id", "users"),
        _pk("messages", "id"),
    )
    op.create_index(
        "ix_messages_conversation_created", "messages", ["conversation_id", "created_at"]
    )
    op.create_table(
        "trust_edges",
        _id("from_user_id"),
        _id("to_user_id"),
        sa.Column("edge_type", sa.String(24), nullable=False),
        sa.Column("weight", sa.Float(), nullable=False),
        _at(),
        _at("updated_at"),
        sa.CheckConstraint("from_user_id <> to_user_id", name="ck_trust_edges_not_self"),
        sa.CheckConstraint("weight >= 0 AND weight <= 1", name="ck_trust_edges_weight"),
        sa.CheckConstraint(
            "edge_type IN ('friend', 'follow', 'verified_connection')",
            name="ck_trust_edges_edge_type",
        ),
        _fk("trust_edges", "from_user_id", "users"),
        _fk("trust_edges", "to_user_id", "users"),
        _pk("trust_edges", "from_user_id", "to_user_id", "edge_type"),
    )
    op.create_index("ix_trust_edges_to_user_id", "trust_edges", ["to_user_id"])


def _collab() -> None:
    op.create_table(
        "workspaces",
        _id(),
        sa.Column("name", sa.String(120), nullable=False),
        sa.Column("plan", sa.String(16), nullable=False),
        _id("created_by", nullable=True),
        _at(),
        sa.CheckConstraint("plan IN ('free', 'team', 'business')", name="ck_workspaces_plan"),
        _fk("workspaces", "created_by", "users", ondelete="SET NULL"),
        _pk("workspaces", "id"),
    )
    op.create_table(
        "workspace_members",
        _id("workspace_id"),
        _id("user_id"),
        sa.Column("role", sa.String(8), nullable=False),
        _at(),
        sa.CheckConstraint(
            "role IN ('viewer', 'member', 'admin', 'owner')", name="ck_workspace_members_role"
        ),
        _fk("workspace_members", "workspace_id", "workspaces"),
        _fk("workspace_members", "user_id", "users"),
        _pk("workspace_members", "workspace_id", "user_id"),
    )
    op.create_index("ix_workspace_members_user_id", "workspace_members", ["user_id"])
    op.create_table(
        "projects",
        _id(),
        _id("workspace_id"),
        sa.Column("name", sa.String(120), nullable=False),
        _at(),
        _fk("projects", "workspace_id", "workspaces"),
        _pk("projects", "id"),
    )
    op.create_index("ix_projects_workspace_id", "projects", ["workspace_id"])
    op.create_table(
        "tasks",
        _id(),
        _id("project_id"),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        _id("assignee_id", nullable=True),
        _at(),
        _at("updated_at"),
        sa.CheckConstraint(
            "status IN ('todo', 'in_progress', 'done', 'blocked')", name="ck_tasks_status"
        ),
        _fk("tasks", "project_id", "projects"),
        _fk("tasks", "assignee_id", "users", ondelete="SET NULL"),
        _pk("tasks", "id"),
    )
    op.create_index("ix_tasks_project_id", "tasks", ["project_id"])


def _admin() -> None:
    op.create_table(
        "role_grants",
        _id("user_id"),
        sa.Column("role", sa.String(16), nullable=False),
        _id("granted_by", nullable=True),
        _at("granted_at"),
        sa.CheckConstraint("role IN ('admin')", name="ck_role_grants_role"),
        _fk("role_grants", "user_id", "users"),
        _fk("role_grants", "granted_by", "users", ondelete="SET NULL"),
        _pk("role_grants", "user_id", "role"),
    )
    op.create_table(
        "account_status_audit",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        _id("user_id"),
        _id("actor_id"),
        _at("at"),
        sa.Column("reason_code", sa.String(64), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("status_before", sa.String(16), nullable=False),
        sa.Column("status_after", sa.String(16), nullable=False),
        _pk("account_status_audit", "id"),
    )
    op.create_index("ix_account_status_audit_user_at", "account_status_audit", ["user_id", "at"])
    op.create_table(
        "appeals",
        _id(),
        _id("user_id"),
        sa.Column("account_status", sa.String(16), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        _at(),
        _fk("appeals", "user_id", "users"),
        _pk("appeals", "id"),
    )
    op.create_index("ix_appeals_user_id", "appeals", ["user_id"])


def upgrade() -> None:
    _social()
    _collab()
    _admin()


def downgrade() -> None:
    for table in (
        "appeals",
        "account_status_audit",
        "role_grants",
        "tasks",
        "projects",
        "workspace_members",
        "workspaces",
        "trust_edges",
        "messages",
        "conversation_members",
        "conversations",
        "comments",
        "post_likes",
        "follows",
        "posts",
    ):
        op.drop_table(table)

"""users.email_skeleton: look-alike addresses (UTS #39 confusables) cannot be two accounts.

Existing rows are backfilled in sign-up order; a row whose skeleton an earlier account already
holds keeps NULL (it stays usable, and no new look-alike of either can register).

Revision ID: 0004_email_skeleton
Revises: 0001
Create Date: 2026-12-06
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from core_api.services.emails import email_skeleton

revision: str = "0004_email_skeleton"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None
log = logging.getLogger(__name__)


def upgrade() -> None:
    op.add_column("users", sa.Column("email_skeleton", sa.String(254), nullable=True))
    columns = ("id", "email", "email_skeleton", "created_at")
    users = sa.table("users", *(sa.column(name) for name in columns))
    connection = op.get_bind()
    taken: set[str] = set()
    rows = connection.execute(sa.select(users.c.id, users.c.email).order_by(users.c.created_at))
    for user_id, email in rows.all():
        skeleton = email_skeleton(email)
        if skeleton in taken:
            log.warning("user %s: e-mail skeleton already held by an older account", user_id)
            continue
        taken.add(skeleton)
        connection.execute(
            users.update().where(users.c.id == user_id).values(email_skeleton=skeleton)
        )
    op.create_index("ix_users_email_skeleton", "users", ["email_skeleton"], unique=True)


def downgrade() -> None:
    op.drop_index("ix_users_email_skeleton", table_name="users")
    with op.batch_alter_table("users") as batch:
        batch.drop_column("email_skeleton")

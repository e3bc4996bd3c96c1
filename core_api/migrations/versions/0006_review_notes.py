"""Analysts' notes on cases, taken with or without a decision (append-only ``review_notes``),
and cases an analyst opens by hand (source ``analyst``: a linked account with no case yet).

SQLite alters a CHECK by copying the table (batch mode); ``core_api.db.engine.upgrade`` turns
foreign keys off around the migration, as SQLite's own procedure for it says, or dropping the old
``review_cases`` would cascade to every decision and note.

Revision ID: 0006_review_notes
Revises: 0005_review
Create Date: 2026-12-07
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006_review_notes"
down_revision: str | tuple[str, ...] | None = "0005_review"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


OLD_SOURCES = "source IN ('score', 'report', 'chargeback', 'appeal')"
NEW_SOURCES = "source IN ('score', 'report', 'chargeback', 'appeal', 'analyst')"


def _sources(check: str) -> None:
    with op.batch_alter_table("review_cases") as batch:
        batch.drop_constraint("ck_review_cases_source", type_="check")
        batch.create_check_constraint("ck_review_cases_source", check)


def _notes() -> None:
    op.create_table(
        "review_notes",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("case_id", sa.String(36), nullable=False),
        sa.Column("user_id", sa.String(36), nullable=False),
        sa.Column("author_id", sa.String(36), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("length(body) BETWEEN 1 AND 2000", name="ck_review_notes_body_length"),
        sa.ForeignKeyConstraint(
            ["case_id"],
            ["review_cases.id"],
            name="fk_review_notes_case_id_review_cases",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_review_notes"),
    )
    op.create_index("ix_review_notes_case_at", "review_notes", ["case_id", "at"])
    op.create_index("ix_review_notes_user_at", "review_notes", ["user_id", "at"])


def upgrade() -> None:
    _notes()
    _sources(NEW_SOURCES)


def downgrade() -> None:
    # Cases opened by hand go with their decisions and notes (ON DELETE CASCADE).
    op.execute("DELETE FROM review_cases WHERE source = 'analyst'")
    _sources(OLD_SOURCES)
    op.drop_table("review_notes")

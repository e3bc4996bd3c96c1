"""Migration 0006 widens the case sources on a populated database: on SQLite the table is
copied, and nothing that references it (decisions, notes) may go with the old copy."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from core_api.db.engine import downgrade, make_engine, upgrade
from settings import Settings

AT = "2026-12-01 09:00:00"
USER = (
    "INSERT INTO users (id, email, password_hash, display_name, bio, status, created_at, "
    "updated_at) VALUES ('u1', 'a@example.com', 'x', 'n', '', 'active', :at, :at)"
)
CASE = (
    "INSERT INTO review_cases (id, user_id, source, risk, band, reasons, amount_at_stake, "
    "status, opened_at, evidence_at, updated_at) "
    "VALUES (:id, 'u1', :source, 0.5, 'high', '', 0, :status, :at, :at, :at)"
)
DECISION = (
    "INSERT INTO review_decisions (case_id, user_id, analyst_id, action, reason, note, at) "
    "VALUES ('c1', 'u1', 'a1', 'clear', 'benign', '', :at)"
)


def _count(engine: object, table: str) -> int:
    with engine.connect() as c:  # type: ignore[attr-defined]
        return int(c.execute(text(f"SELECT count(*) FROM {table}")).scalar_one())


def test_0006_keeps_decisions_and_takes_cases_opened_by_analysts(any_settings: Settings) -> None:
    engine = make_engine(any_settings)
    upgrade(engine, "0005_review")
    with engine.begin() as c:
        c.execute(text(USER), {"at": AT})
        c.execute(text(CASE), {"id": "c1", "source": "score", "status": "decided", "at": AT})
        c.execute(text(DECISION), {"at": AT})
        with pytest.raises(IntegrityError), c.begin_nested():
            c.execute(text(CASE), {"id": "c2", "source": "analyst", "status": "open", "at": AT})
    upgrade(engine)
    assert _count(engine, "review_decisions") == 1  # the copied table took no one with it
    with engine.begin() as c:
        c.execute(text(CASE), {"id": "c2", "source": "analyst", "status": "open", "at": AT})
        c.execute(
            text(
                "INSERT INTO review_notes (case_id, user_id, author_id, body, at) "
                "VALUES ('c2', 'u1', 'a1', 'opened from the graph', :at)"
            ),
            {"at": AT},
        )
        with pytest.raises(IntegrityError), c.begin_nested():
            c.execute(text(CASE), {"id": "c3", "source": "hunch", "status": "open", "at": AT})
    downgrade(engine, "0005_review")  # cases opened by hand go; the rest stays
    assert (_count(engine, "review_cases"), _count(engine, "review_decisions")) == (1, 1)
    with engine.connect() as c:
        assert c.exec_driver_sql("SELECT 1").scalar() == 1
        if c.dialect.name == "sqlite":
            assert c.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1  # back on
    engine.dispose()

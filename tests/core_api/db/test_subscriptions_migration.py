"""Migration 0010 widens the ledger's and the notifications' kind CHECKs on a populated database
(on SQLite by copying the tables) and adds the subscription tables; its downgrade refuses while
subscription money is in the ledger."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from core_api.db.engine import downgrade, make_engine, upgrade
from settings import Settings

AT = "2026-12-01 09:00:00"
BEFORE = "0009_search"
USER = (
    "INSERT INTO users (id, email, password_hash, display_name, bio, status, created_at, "
    "updated_at) VALUES ('u1', 'a@example.com', 'x', 'n', '', 'active', :at, :at)"
)
WALLET = (
    "INSERT INTO wallets (id, key, kind, owner_id, currency, balance, created_at, updated_at) "
    "VALUES ('w1', 'user:u1:EUR', 'user', 'u1', 'EUR', 0, :at, :at)"
)
TXN = (
    "INSERT INTO transactions (id, kind, currency, amount, created_at) "
    "VALUES (:id, :kind, 'EUR', 10, :at)"
)
ENTRY = (
    "INSERT INTO entries (transaction_id, wallet_id, amount, created_at) "
    "VALUES ('t1', 'w1', 10, :at)"
)
NOTICE = (
    "INSERT INTO notifications (id, user_id, kind, title, body, count, created_at) "
    "VALUES (:id, 'u1', :kind, 't', '', 1, :at)"
)


def _count(engine: object, table: str) -> int:
    with engine.connect() as c:  # type: ignore[attr-defined]
        return int(c.execute(text(f"SELECT count(*) FROM {table}")).scalar_one())


def test_0010_widens_the_kinds_keeps_the_ledger_and_guards_its_downgrade(
    any_settings: Settings,
) -> None:
    engine = make_engine(any_settings)
    upgrade(engine, BEFORE)
    with engine.begin() as c:
        for statement in (USER, WALLET):
            c.execute(text(statement), {"at": AT})
        c.execute(text(TXN), {"id": "t1", "kind": "deposit", "at": AT})
        c.execute(text(ENTRY), {"at": AT})
        c.execute(text(NOTICE), {"id": "n1", "kind": "payout", "at": AT})
    upgrade(engine, "0010_subscriptions")  # this migration alone: later ones have their own tests
    assert [_count(engine, t) for t in ("transactions", "entries", "notifications")] == [1, 1, 1]
    with engine.begin() as c:
        c.execute(text(TXN), {"id": "t2", "kind": "subscription", "at": AT})
        c.execute(text(NOTICE), {"id": "n2", "kind": "subscription", "at": AT})
        with pytest.raises(IntegrityError), c.begin_nested():
            c.execute(text(TXN), {"id": "t3", "kind": "gift", "at": AT})
    with pytest.raises(RuntimeError, match="subscription charges"):
        downgrade(engine, BEFORE)
    with engine.begin() as c:
        c.execute(text("DELETE FROM transactions WHERE id = 't2'"))
    downgrade(engine, BEFORE)
    assert [_count(engine, t) for t in ("transactions", "entries", "notifications")] == [1, 1, 1]
    with engine.begin() as c, pytest.raises(IntegrityError):
        c.execute(text(TXN), {"id": "t4", "kind": "subscription", "at": AT})
    engine.dispose()

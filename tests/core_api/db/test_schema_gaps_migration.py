"""Migration 0012 on a populated database: the verification timestamps move into
``verifications`` (and back on downgrade), escrows are rebuilt from the ledger, the copied
tables keep their rows, their CHECKs and those CHECKs' names."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine, inspect, text
from sqlalchemy.exc import IntegrityError

from core_api.db.engine import downgrade, make_engine, upgrade
from settings import Settings

AT, LATER = "2026-12-01 09:00:00", "2026-12-02 09:00:00"
USER = (
    "INSERT INTO users (id, email, password_hash, display_name, bio, status, "
    "email_verified_at, phone_verified_at, created_at, updated_at) "
    "VALUES (:id, :email, 'x', 'n', '', 'active', :email_at, :phone_at, :at, :at)"
)
ROWS = (
    "INSERT INTO devices (id, user_id, fingerprint, platform, first_seen_at, last_seen_at) "
    "VALUES ('d1', 'u1', 'fp', 'web', :at, :at)",
    "INSERT INTO posts (id, author_id, body, topic, visibility, created_at) "
    "VALUES ('p1', 'u1', 'hello', 'music', 'public', :at)",
    "INSERT INTO post_likes (post_id, user_id, created_at) VALUES ('p1', 'u2', :at)",
    "INSERT INTO conversations (id, created_by, created_at) VALUES ('c1', 'u1', :at)",
    "INSERT INTO conversation_members (conversation_id, user_id) VALUES ('c1', 'u1')",
    "INSERT INTO messages (id, conversation_id, sender_id, body, created_at) "
    "VALUES ('m1', 'c1', 'u1', 'hi', :at)",
    "INSERT INTO workspaces (id, name, plan, created_by, created_at) "
    "VALUES ('w1', 'w', 'free', 'u1', :at)",
    "INSERT INTO projects (id, workspace_id, name, created_at) VALUES ('j1', 'w1', 'p', :at)",
    "INSERT INTO listings (id, seller_id, title, description, category, item_condition, price, "
    "currency, quantity, lat, lon, status, created_at, updated_at) "
    "VALUES ('l1', 'u2', 't', '', 'home', 'new', 10, 'EUR', 5, 0, 0, 'active', :at, :at)",
)
ORDER = (
    "INSERT INTO orders (id, listing_id, buyer_id, seller_id, quantity, amount, currency, "
    "status, created_at, updated_at) VALUES (:id, 'l1', 'u1', 'u2', 1, 100000, 'EUR', 'paid', "
    ":at, :at)"
)
TXN = (
    "INSERT INTO transactions (id, kind, currency, amount, initiator_id, order_id, created_at) "
    "VALUES (:id, :kind, 'EUR', 100000, 'u1', :order, :at)"
)


def _rows(engine: Engine, sql: str) -> list[tuple]:
    with engine.connect() as c:
        return [tuple(r) for r in c.execute(text(sql))]


def _checks(engine: Engine, table: str) -> set[str]:
    return {str(c["name"]) for c in inspect(engine).get_check_constraints(table)}


def _populate(engine: Engine) -> None:
    with engine.begin() as c:
        for user, email, phone_at in (("u1", "a@x.test", None), ("u2", "b@x.test", LATER)):
            values = {"id": user, "email": email, "email_at": AT, "phone_at": phone_at, "at": AT}
            c.execute(text(USER), values)
        for row in ROWS:
            c.execute(text(row), {"at": AT})
        for order in ("o1", "o2", "o3"):
            c.execute(text(ORDER), {"id": order, "at": AT})
        moves = [
            ("t1", "escrow_hold", "o1", AT),
            ("t2", "escrow_release", "o1", LATER),
            ("t3", "escrow_hold", "o2", AT),
            ("t4", "escrow_refund", "o2", LATER),
            ("t5", "escrow_hold", "o3", AT),
        ]
        for txn, kind, order, at in moves:
            c.execute(text(TXN), {"id": txn, "kind": kind, "order": order, "at": at})


def test_0012_moves_the_data_and_keeps_rows_and_checks(any_settings: Settings) -> None:
    engine = make_engine(any_settings)
    upgrade(engine, "0011_files")
    _populate(engine)
    before = _checks(engine, "users")
    assert before == {"ck_users_ck_users_status"}
    upgrade(engine)
    assert _rows(
        engine, "SELECT user_id, kind, status FROM verifications ORDER BY user_id, kind"
    ) == [("u1", "email", "verified"), ("u2", "email", "verified"), ("u2", "phone", "verified")]
    columns = {c["name"] for c in inspect(engine).get_columns("users")}
    assert "email_verified_at" not in columns and {"username", "dob", "country"} <= columns
    assert _rows(engine, "SELECT order_id, status FROM escrows ORDER BY order_id") == [
        ("o1", "released"),
        ("o2", "refunded"),
        ("o3", "held"),
    ]
    assert _rows(engine, "SELECT settle_transaction_id FROM escrows WHERE order_id = 'o1'") == [
        ("t2",)
    ]
    assert _rows(engine, "SELECT trust_level FROM devices") == [("known",)]
    assert _rows(engine, "SELECT status, read_at FROM messages") == [("sent", None)]
    assert _rows(engine, "SELECT description FROM projects") == [("",)]
    assert _rows(engine, "SELECT count(*) FROM post_likes") == [(1,)]
    # Every migration's CHECK is named by the naming convention applied to the name it spells
    # (so "ck_users_status" is ck_users_ck_users_status, on both databases, since 0001); a
    # SQLite table copy keeps those names as they are, and the new CHECKs follow the same form.
    assert _checks(engine, "users") == before
    assert _checks(engine, "devices") == {"ck_devices_ck_devices_trust_level"}
    assert _checks(engine, "messages") == {"ck_messages_ck_messages_status"}
    with engine.begin() as c:
        for bad in (
            "UPDATE users SET status = 'zombie' WHERE id = 'u1'",
            "UPDATE devices SET trust_level = 'best'",
            "UPDATE messages SET status = 'lost'",
        ):
            with pytest.raises(IntegrityError), c.begin_nested():
                c.execute(text(bad))
    downgrade(engine, "0011_files")
    assert _rows(engine, "SELECT id FROM users WHERE phone_verified_at IS NOT NULL") == [("u2",)]
    assert _rows(engine, "SELECT count(*) FROM users WHERE email_verified_at IS NOT NULL") == [(2,)]
    engine.dispose()

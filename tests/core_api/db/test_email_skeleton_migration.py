"""Migration 0004 backfills e-mail skeletons; look-alikes already in the table keep working."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import text

from core_api.db.engine import make_engine, upgrade
from core_api.services.emails import email_skeleton
from settings import Settings


def test_backfill_keeps_the_oldest_of_look_alikes(any_settings: Settings) -> None:
    engine = make_engine(any_settings)
    upgrade(engine, "0001")  # the identity tables as they were, before the skeleton column
    start = datetime(2026, 1, 1, tzinfo=UTC)
    rows = [("a", "paypal@example.com"), ("b", "p\u0430ypal@example.com"), ("c", "bob@example.com")]
    with engine.begin() as c:
        for i, (uid, email) in enumerate(rows):
            c.execute(
                text(
                    "INSERT INTO users (id, email, password_hash, display_name, bio, status, "
                    "created_at, updated_at) VALUES (:id, :email, 'x', 'n', '', 'active', :at, :at)"
                ),
                {"id": uid, "email": email, "at": start + timedelta(days=i)},
            )
    upgrade(engine)
    with engine.connect() as c:
        got = dict(c.execute(text("SELECT id, email_skeleton FROM users")).all())
    skeletons = {uid: email_skeleton(email) for uid, email in rows}
    assert got == {**skeletons, "b": None}  # "b" looks like the older "a": no skeleton of its own
    engine.dispose()

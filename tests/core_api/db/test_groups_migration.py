"""Migration 0008 adds ``posts.group_id`` on a populated database: on SQLite ``posts`` is
copied, and its likes and comments may not go with the old copy; the visibility CHECK stays."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from core_api.db.engine import downgrade, make_engine, upgrade
from settings import Settings

AT = "2026-12-01 09:00:00"
ROWS = (
    "INSERT INTO users (id, email, password_hash, display_name, bio, status, created_at, "
    "updated_at) VALUES ('u1', 'a@example.com', 'x', 'n', '', 'active', :at, :at)",
    "INSERT INTO posts (id, author_id, body, topic, visibility, created_at) "
    "VALUES ('p1', 'u1', 'hello', 'music', 'public', :at)",
    "INSERT INTO post_likes (post_id, user_id, created_at) VALUES ('p1', 'u1', :at)",
    "INSERT INTO comments (id, post_id, author_id, body, created_at) "
    "VALUES ('c1', 'p1', 'u1', 'hi', :at)",
)
GROUP = (
    "INSERT INTO groups (id, name, description, join_policy, min_trust, created_by, created_at) "
    "VALUES ('g1', 'Jazz', '', 'open', 0.5, 'u1', :at)"
)


def _count(engine: object, table: str) -> int:
    with engine.connect() as c:  # type: ignore[attr-defined]
        return int(c.execute(text(f"SELECT count(*) FROM {table}")).scalar_one())


def test_0008_keeps_likes_and_comments_and_the_visibility_check(any_settings: Settings) -> None:
    engine = make_engine(any_settings)
    upgrade(engine, "0007_notifications")
    with engine.begin() as c:
        for row in ROWS:
            c.execute(text(row), {"at": AT})
    upgrade(engine)
    assert (_count(engine, "post_likes"), _count(engine, "comments")) == (1, 1)
    with engine.begin() as c:
        c.execute(text(GROUP), {"at": AT})
        c.execute(
            text(
                "INSERT INTO posts (id, author_id, body, topic, visibility, group_id, created_at) "
                "VALUES ('p2', 'u1', 'in the group', 'music', 'public', 'g1', :at)"
            ),
            {"at": AT},
        )
        with pytest.raises(IntegrityError), c.begin_nested():
            c.execute(
                text(
                    "INSERT INTO posts (id, author_id, body, topic, visibility, created_at) "
                    "VALUES ('p3', 'u1', 'x', 'music', 'everyone', :at)"
                ),
                {"at": AT},
            )
        with pytest.raises(IntegrityError), c.begin_nested():
            c.execute(text(GROUP.replace("'g1'", "'g2'").replace("0.5", "1.5")), {"at": AT})
    downgrade(engine, "0007_notifications")  # a group's posts go with the groups
    assert (_count(engine, "posts"), _count(engine, "post_likes")) == (1, 1)
    engine.dispose()

"""The feed's degraded page (``core_api.services.feed_fallback``), on both databases.

The store outage that makes the endpoint serve it is drilled on a real Redis in
``tests/drills/test_redis_outage.py``; here the page itself: what it holds, its order, its cursor.
"""

from __future__ import annotations

from datetime import UTC, datetime

from fastapi.testclient import TestClient

from core_api.db.identity import User
from core_api.db.social import Post
from core_api.services.feed_fallback import fallback_page
from tests.core_api.routers.helpers import signed_in

H = dict[str, str]
SAME_TIME = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)


def _post(api: TestClient, headers: H, body: str, visibility: str = "public") -> str:
    made = api.post(
        "/social/posts",
        json={"body": body, "topic": "tech", "visibility": visibility},
        headers=headers,
    )
    assert made.status_code == 201, made.text
    return made.json()["id"]


def test_fallback_is_newest_visible_posts_of_followed_users(any_api: TestClient) -> None:
    reader, hr = signed_in(any_api)
    followed, hf = signed_in(any_api)
    banned, hb = signed_in(any_api)
    _stranger, hs = signed_in(any_api)
    for user in (followed, banned):
        assert any_api.put(f"/social/follows/{user['id']}", headers=hr).status_code == 201
    expected = [_post(any_api, hf, f"public {i}") for i in range(3)]
    _post(any_api, hf, "friends only: not friends", "friends")
    _post(any_api, hf, "private", "private")
    _post(any_api, hb, "by a banned author")
    _post(any_api, hs, "not followed")
    expected.append(_post(any_api, hr, "my own, even private", "private"))
    tied = [_post(any_api, hf, f"same instant {i}") for i in range(3)]
    with any_api.app.state.services.sessions() as db:
        db.get(User, banned["id"]).status = "banned"
        for post_id in tied:  # a tie on created_at: the id decides, and no page loses one
            db.get(Post, post_id).created_at = SAME_TIME
        db.commit()

    with any_api.app.state.services.sessions() as db:
        pages, cursor = [], None
        while True:
            page = fallback_page(db, reader["id"], cursor=cursor, limit=2)
            assert page.degraded and page.version is None
            assert all(not i.ranked and i.score == 0.0 for i in page.items)
            pages.append([i.post.id for i in page.items])
            cursor = page.cursor
            if cursor is None:
                break
    got = [post_id for page in pages for post_id in page]
    assert [len(p) for p in pages] == [2, 2, 2, 1]
    assert got == [*reversed(expected), *sorted(tied, reverse=True)]


def test_fallback_cursor_is_checked_and_keeps_paging_the_fallback(api: TestClient) -> None:
    author, ha = signed_in(api)
    _reader, hr = signed_in(api)
    assert api.put(f"/social/follows/{author['id']}", headers=hr).status_code == 201
    posts = [_post(api, ha, f"p{i}") for i in range(3)]
    with api.app.state.services.sessions() as db:
        first = fallback_page(db, _reader["id"], cursor=None, limit=2)
    assert first.cursor is not None and first.cursor.startswith("d1.")
    # The store is fine, but a degraded cursor keeps the client's pages consistent.
    rest = api.get("/social/feed", params={"cursor": first.cursor, "limit": 2}, headers=hr)
    assert rest.status_code == 200 and rest.json()["degraded"] is True
    assert [i["post"]["id"] for i in rest.json()["items"]] == [posts[0]]
    fresh = api.get("/social/feed", headers=hr).json()
    assert fresh["degraded"] is False and len(fresh["items"]) == 3
    for forged in ("d1.", "d1.bm90LWpzb24", "d1.WyJub3QgYSB0aW1lIiwgImlkIl0"):
        bad = api.get("/social/feed", params={"cursor": forged}, headers=hr)
        assert bad.status_code == 400 and bad.json()["detail"]["reason"] == "bad_cursor"

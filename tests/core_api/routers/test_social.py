from __future__ import annotations

import json
import sqlite3

import pytest
from fastapi.testclient import TestClient

from core_api.app import create_app
from serving.feed import SqliteFeed
from settings import Settings
from tests.core_api.routers.helpers import events, signed_in

H = dict[str, str]


def _post(api: TestClient, headers: H, visibility: str = "public", body: str = "hi") -> str:
    response = api.post(
        "/social/posts",
        json={"body": body, "topic": "tech", "visibility": visibility},
        headers=headers,
    )
    assert response.status_code == 201, response.text
    return response.json()["id"]


def _follow(api: TestClient, headers: H, user_id: str) -> None:
    assert api.put(f"/social/follows/{user_id}", headers=headers).status_code in (200, 201)


def test_posts_by_visibility_on_each_database(any_api: TestClient) -> None:
    author, ha = signed_in(any_api)
    friend, hf = signed_in(any_api)
    _fan, hs = signed_in(any_api)
    _follow(any_api, hf, author["id"])
    _follow(any_api, ha, friend["id"])  # mutual: friends
    _follow(any_api, hs, author["id"])  # one-way: a follower, not a friend
    ids = {v: _post(any_api, ha, v) for v in ("public", "friends", "private")}
    expected = {
        "author": (ha, {"public", "friends", "private"}),
        "friend": (hf, {"public", "friends"}),
        "follower": (hs, {"public"}),
    }
    for who, (headers, allowed) in expected.items():
        for visibility, post_id in ids.items():
            code = any_api.get(f"/social/posts/{post_id}", headers=headers).status_code
            assert code == (200 if visibility in allowed else 404), (who, visibility)
        listed = any_api.get(f"/social/users/{author['id']}/posts", headers=headers).json()
        assert {p["visibility"] for p in listed} == allowed, who
    created = [json.loads(e.line) for e in events(any_api, "POST_CREATED")]
    assert [c["payload"]["visibility"] for c in created] == ["public", "friends", "private"]
    assert all(c["actor_id"] == author["id"] for c in created)


def test_hidden_posts_refuse_comments_likes_and_engagement_reads(api: TestClient) -> None:
    _author, ha = signed_in(api)
    _other, ho = signed_in(api)
    private = _post(api, ha, "private")
    probes = [
        api.get(f"/social/posts/{private}/comments", headers=ho),
        api.post(f"/social/posts/{private}/comments", json={"body": "x"}, headers=ho),
        api.put(f"/social/posts/{private}/like", headers=ho),
        api.get(f"/social/posts/{private}/engagement", headers=ho),
        api.delete(f"/social/posts/{private}", headers=ho),
    ]
    assert [r.status_code for r in probes] == [404] * len(probes)
    # An absent post answers the same: a probe cannot learn that a private one exists.
    absent = api.get("/social/posts/00000000-0000-4000-8000-000000000000", headers=ho)
    assert absent.json() == probes[0].json()
    assert not events(api, "POST_ENGAGED")


def test_likes_and_comments_are_engagements(api: TestClient) -> None:
    author, ha = signed_in(api)
    _reader, hr = signed_in(api)
    post_id = _post(api, ha)
    assert api.put(f"/social/posts/{post_id}/like", headers=hr).status_code == 201
    again = api.put(f"/social/posts/{post_id}/like", headers=hr)
    assert again.status_code == 200 and again.json()["likes"] == 1  # idempotent
    made = api.post(f"/social/posts/{post_id}/comments", json={"body": " nice "}, headers=hr)
    assert made.status_code == 201 and made.json()["body"] == "nice"
    assert [c["body"] for c in api.get(f"/social/posts/{post_id}/comments", headers=ha).json()] == [
        "nice"
    ]
    counts = api.get(f"/social/posts/{post_id}/engagement", headers=ha).json()
    assert counts == {"post_id": post_id, "likes": 1, "comments": 1, "liked_by_me": False}
    engaged = [json.loads(e.line) for e in events(api, "POST_ENGAGED")]
    assert [e["payload"]["engagement"] for e in engaged] == ["like", "comment"]
    assert {e["payload"]["author_id"] for e in engaged} == {author["id"]}
    assert api.delete(f"/social/posts/{post_id}/like", headers=hr).json()["likes"] == 0
    assert api.delete(f"/social/posts/{post_id}", headers=hr).status_code == 403  # not theirs
    assert api.delete(f"/social/posts/{post_id}", headers=ha).status_code == 204
    assert api.get(f"/social/posts/{post_id}", headers=ha).status_code == 404


def test_follows_are_idempotent_and_evented(api: TestClient) -> None:
    a, ha = signed_in(api)
    b, hb = signed_in(api)
    first = api.put(f"/social/follows/{b['id']}", json={"source": "search"}, headers=ha)
    assert first.status_code == 201 and first.json()["mutual"] is False
    assert api.put(f"/social/follows/{b['id']}", headers=ha).status_code == 200
    assert api.put(f"/social/follows/{a['id']}", headers=hb).json()["mutual"] is True
    followed = [json.loads(e.line) for e in events(api, "USER_FOLLOWED")]
    assert [(f["actor_id"], f["subject_id"]) for f in followed] == [
        (a["id"], b["id"]),
        (b["id"], a["id"]),
    ]
    assert followed[0]["payload"] == {"follow_source": "search"}
    assert api.put(f"/social/follows/{a['id']}", headers=ha).status_code == 422  # self
    unknown = "/social/follows/00000000-0000-4000-8000-000000000000"
    assert api.put(unknown, headers=ha).status_code == 404
    assert api.delete(f"/social/follows/{b['id']}", headers=ha).status_code == 204
    assert api.get(f"/social/follows/{b['id']}", headers=ha).status_code == 404


def test_feed_fans_out_to_followers_and_filters_on_read(api: TestClient) -> None:
    author, ha = signed_in(api)
    friend, hf = signed_in(api)
    _fan, hs = signed_in(api)
    _stranger, hx = signed_in(api)
    _follow(api, hf, author["id"])
    _follow(api, ha, friend["id"])
    _follow(api, hs, author["id"])
    public = _post(api, ha, "public", "first")
    friends = _post(api, ha, "friends", "second")
    private = _post(api, ha, "private", "third")

    def feed(headers: H) -> list[str]:
        page = api.get("/social/feed", headers=headers)
        assert page.status_code == 200, page.text
        return [item["post"]["id"] for item in page.json()["items"]]

    assert set(feed(ha)) == {public, friends, private}
    assert set(feed(hf)) == {public, friends}
    assert feed(hs) == [public]
    assert feed(hx) == []
    # Unfollowing ends the friendship: the friends-only post leaves the feed on the next read.
    assert api.delete(f"/social/follows/{author['id']}", headers=hf).status_code == 204
    assert feed(hf) == [public]


def test_feed_pages_with_a_cursor_and_refuses_a_forged_one(api: TestClient) -> None:
    author, ha = signed_in(api)
    _reader, hr = signed_in(api)
    _follow(api, hr, author["id"])
    posted = {_post(api, ha, body=f"p{i}") for i in range(5)}
    first = api.get("/social/feed", params={"limit": 3}, headers=hr).json()
    assert len(first["items"]) == 3 and first["cursor"]
    rest = api.get(
        "/social/feed", params={"limit": 3, "cursor": first["cursor"]}, headers=hr
    ).json()
    seen = [i["post"]["id"] for i in first["items"] + rest["items"]]
    assert sorted(seen) == sorted(posted) and rest["cursor"] is None
    forged = api.get("/social/feed", params={"cursor": "bm90LWEtY3Vyc29y"}, headers=hr)
    assert forged.status_code == 400
    assert api.get("/social/feed", params={"limit": 0}, headers=hr).status_code == 422


def test_social_input_errors_are_4xx(api: TestClient) -> None:
    _me, h = signed_in(api)
    bad = [
        {"body": "", "topic": "tech"},
        {"body": "x", "topic": "nope"},
        {"body": "x", "topic": "tech", "visibility": "secret"},
        {"body": "x", "topic": "tech", "author_id": "someone"},
        {"body": "x" * 10_001, "topic": "tech"},
    ]
    for body in bad:
        assert api.post("/social/posts", json=body, headers=h).status_code == 422, body
    assert api.get("/social/posts/not-a-uuid", headers=h).status_code == 422
    assert api.get("/social/feed").status_code == 401


def test_feed_backend_is_a_service_closed_with_the_app(sqlite_settings: Settings) -> None:
    with TestClient(create_app(sqlite_settings, relay_every_s=None)) as api:
        feed = api.app.state.services.feed
        assert isinstance(feed, SqliteFeed)
        _, headers = signed_in(api)
        post = api.post("/social/posts", json={"body": "hello", "topic": "art"}, headers=headers)
        page = api.get("/social/feed", headers=headers).json()
        assert [i["post"]["id"] for i in page["items"]] == [post.json()["id"]]
    with pytest.raises(sqlite3.ProgrammingError):  # the lifespan closed its connection
        feed.con.execute("SELECT 1")

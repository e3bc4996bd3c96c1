"""Editing a post: its author only, within what the post's audience already sees, each edit an
event (a link added later is the bait-and-switch signal)."""

from __future__ import annotations

import json

from fastapi.testclient import TestClient

from tests.core_api.routers.helpers import events, signed_in


def test_the_author_edits_a_post_and_each_edit_is_an_event(any_api: TestClient) -> None:
    _a, ha = signed_in(any_api)
    _b, hb = signed_in(any_api)
    made = any_api.post(
        "/social/posts",
        json={"body": "a quiet post", "topic": "music", "media_urls": ["https://cdn.test/a.png"]},
        headers=ha,
    ).json()
    assert made["media_urls"] == ["https://cdn.test/a.png"] and made["updated_at"] is None
    url = f"/social/posts/{made['id']}"
    edited = any_api.patch(
        url, json={"body": "now see https://scam.test", "media_urls": []}, headers=ha
    )
    assert edited.status_code == 200, edited.text
    post = edited.json()
    assert post["body"] == "now see https://scam.test" and post["media_urls"] == []
    assert post["updated_at"] is not None and post["topic"] == "music"
    assert any_api.get(url, headers=hb).json()["updated_at"] == post["updated_at"]
    assert any_api.patch(url, json={"body": "mine now"}, headers=hb).status_code == 403
    same = any_api.patch(url, json={"topic": "music"}, headers=ha)  # no change: no event
    assert same.status_code == 200
    [event] = [json.loads(e.line) for e in events(any_api, "POST_EDITED")]
    assert event["subject_id"] == made["id"]
    assert event["payload"] == {
        "visibility": "public",
        "topic": "music",
        "text_length": len("now see https://scam.test"),
        "has_link": True,
        "has_media": False,
    }
    created = json.loads(events(any_api, "POST_CREATED")[0].line)
    assert created["payload"]["has_media"] is True


def test_edits_of_hidden_posts_answer_404_and_bad_input_422(any_api: TestClient) -> None:
    _a, ha = signed_in(any_api)
    _b, hb = signed_in(any_api)
    private = any_api.post(
        "/social/posts", json={"body": "x", "topic": "art", "visibility": "private"}, headers=ha
    ).json()
    url = f"/social/posts/{private['id']}"
    assert any_api.patch(url, json={"body": "y"}, headers=hb).status_code == 404
    for body in (
        {"body": None},
        {"visibility": "public"},  # the audience is not editable
        {"media_urls": ["http://plain.test/a.png"]},
        {"media_urls": ["https://x.test/a"] * 11},
    ):
        assert any_api.patch(url, json=body, headers=ha).status_code == 422, body

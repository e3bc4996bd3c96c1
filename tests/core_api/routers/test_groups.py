"""Groups over HTTP on both databases: roles, join requests, the trust gate, and group posts
under the posts' visibility rules (outsiders get 404 for everything but the group's card)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import polars as pl
from fastapi.testclient import TestClient

from core_api.app import create_app
from serving.publish import publish
from settings import Settings
from tests.core_api.routers.helpers import events, signed_in

POST = {"body": "meet-up on Friday", "topic": "music"}


def _group(api: TestClient, headers: dict[str, str], **extra: Any) -> dict[str, Any]:
    made = api.post("/groups", json={"name": "Jazz", **extra}, headers=headers)
    assert made.status_code == 201, made.text
    return made.json()


def _publish(api: TestClient, trust: dict[str, float]) -> None:
    """Scores as the pipeline publishes them, into the app's online store."""
    n = len(trust)
    scores = pl.DataFrame(
        {
            "user_id": list(trust),
            "trust": list(trust.values()),
            "fraud_risk": [0.1] * n,
            "band": ["low"] * n,
            "confirmed_fraud": [False] * n,
            "reasons": [[] for _ in range(n)],
            "model_version": "vouch-fraud/1",
            "scored_at": pl.Series([datetime.now(UTC)] * n, dtype=pl.Datetime("us", "UTC")),
        },
        schema_overrides={"reasons": pl.List(pl.String)},
    )
    publish(api.app.state.services.store, scores, snapshot="2026-12-06")


def test_members_read_group_posts_and_outsiders_get_404(any_api: TestClient) -> None:
    owner, ho = signed_in(any_api)
    joiner, hj = signed_in(any_api)
    _outsider, hx = signed_in(any_api)
    group = _group(any_api, ho)
    assert (group["my_role"], group["members"]) == ("owner", 1)
    url = f"/groups/{group['id']}"
    assert any_api.post(f"{url}/join", json={}, headers=hj).json() == {"status": "member"}
    assert any_api.post(f"{url}/join", json={}, headers=hj).status_code == 409
    post = any_api.post(f"{url}/posts", json=POST, headers=hj)
    assert post.status_code == 201, post.text
    post_id = post.json()["id"]
    assert [p["id"] for p in any_api.get(f"{url}/posts", headers=ho).json()] == [post_id]
    assert any_api.get(f"/social/posts/{post_id}", headers=ho).status_code == 200
    # The outsider sees the group's card (to decide to join) and nothing inside it.
    assert any_api.get(url, headers=hx).json()["my_role"] is None
    probes = [
        any_api.get(f"{url}/posts", headers=hx),
        any_api.get(f"{url}/members", headers=hx),
        any_api.get(f"{url}/requests", headers=hx),
        any_api.post(f"{url}/posts", json=POST, headers=hx),
        any_api.get(f"/social/posts/{post_id}", headers=hx),
        any_api.post(f"/social/posts/{post_id}/likes", headers=hx),
        any_api.get(f"/social/posts/{post_id}/comments", headers=hx),
        any_api.delete(f"{url}/posts/{post_id}", headers=hx),
        any_api.get("/groups/00000000-0000-4000-8000-000000000001", headers=hx),
    ]
    assert [r.status_code for r in probes] == [404] * len(probes)
    assert any_api.get(f"/social/users/{joiner['id']}/posts", headers=hx).json() == []
    # A friends-only post in the group: members who are not the author's friends do not see it.
    friends_only = any_api.post(f"{url}/posts", json={**POST, "visibility": "friends"}, headers=hj)
    hidden = any_api.get(f"/social/posts/{friends_only.json()['id']}", headers=ho)
    assert hidden.status_code == 404
    assert len(any_api.get(f"{url}/posts", headers=hj).json()) == 2
    created = [json.loads(e.line) for e in events(any_api, "POST_CREATED")]
    assert {e["payload"]["group_id"] for e in created} == {group["id"]}
    (made,) = [json.loads(e.line) for e in events(any_api, "GROUP_CREATED")]
    assert made["payload"] == {"join_policy": "open", "min_trust": 0.0}
    joined = [json.loads(e.line) for e in events(any_api, "GROUP_JOINED")]
    assert [(e["subject_id"], e["payload"]["join_via"]) for e in joined] == [
        (owner["id"], "created"),
        (joiner["id"], "open"),
    ]
    mine = any_api.get("/groups/mine", headers=hj).json()
    assert [(g["id"], g["my_role"], g["members"]) for g in mine] == [(group["id"], "member", 2)]


def test_moderators_decide_requests_and_roles_rank(any_api: TestClient) -> None:
    _owner, ho = signed_in(any_api)
    mod, hm = signed_in(any_api)
    good, hg = signed_in(any_api)
    bad, hb = signed_in(any_api)
    group = _group(any_api, ho, join_policy="request")
    url = f"/groups/{group['id']}"
    assert any_api.post(f"{url}/join", json={"note": "hi"}, headers=hm).json() == {
        "status": "pending"
    }
    approved = any_api.post(f"{url}/requests/{mod['id']}/approve", headers=ho)
    assert approved.status_code == 200 and approved.json()["status"] == "approved"
    # A plain member may not see requests; the owner promotes them to moderator.
    for headers in (hg, hb):
        assert any_api.post(f"{url}/join", json={}, headers=headers).status_code == 200
    assert any_api.get(f"{url}/requests", headers=hm).status_code == 403
    promoted = any_api.put(f"{url}/members/{mod['id']}", json={"role": "moderator"}, headers=ho)
    assert promoted.json()["role"] == "moderator"
    assert (
        any_api.put(f"{url}/members/{mod['id']}", json={"role": "member"}, headers=hm).status_code
        == 403
    )
    pending = any_api.get(f"{url}/requests", headers=hm).json()
    assert {r["user_id"] for r in pending} == {good["id"], bad["id"]}
    assert any_api.post(f"{url}/requests/{good['id']}/approve", headers=hm).status_code == 200
    assert any_api.post(f"{url}/requests/{bad['id']}/reject", headers=hm).status_code == 200
    assert any_api.post(f"{url}/requests/{bad['id']}/reject", headers=hm).status_code == 404
    assert any_api.post(f"{url}/requests/{bad['id']}/maybe", headers=hm).status_code == 422
    assert any_api.get(f"{url}/posts", headers=hb).status_code == 404  # still outside
    (rejected,) = [json.loads(e.line) for e in events(any_api, "GROUP_JOIN_REJECTED")]
    assert (rejected["actor_id"], rejected["subject_id"]) == (mod["id"], bad["id"])
    # Asking again after a rejection reopens the request.
    assert any_api.post(f"{url}/join", json={}, headers=hb).json() == {"status": "pending"}
    # Removing: a moderator removes a member, not the owner; the owner cannot leave.
    owner_id = any_api.get(f"{url}/members", headers=hg).json()[0]["user_id"]
    assert any_api.delete(f"{url}/members/{owner_id}", headers=hm).status_code == 403
    assert any_api.delete(f"{url}/members/{owner_id}", headers=ho).status_code == 403
    assert any_api.delete(f"{url}/members/{mod['id']}", headers=hg).status_code == 403
    post = any_api.post(f"{url}/posts", json=POST, headers=hg).json()
    assert any_api.delete(f"{url}/posts/{post['id']}", headers=hm).status_code == 204
    assert any_api.delete(f"{url}/members/{good['id']}", headers=hm).status_code == 204
    assert any_api.delete(f"{url}/members/{mod['id']}", headers=hm).status_code == 204
    left = [
        json.loads(e.line)["payload"]["group_exit"] for e in events(any_api, "GROUP_MEMBER_LEFT")
    ]
    assert left == ["removed", "left"]
    assert [m["role"] for m in any_api.get(f"{url}/members", headers=ho).json()] == ["owner"]


def test_joining_is_gated_by_published_trust(any_api: TestClient) -> None:
    _owner, ho = signed_in(any_api)
    low, hl = signed_in(any_api)
    high, hh = signed_in(any_api)
    later, hlater = signed_in(any_api)
    gated = _group(any_api, ho, min_trust=0.5)
    asked = _group(any_api, ho, join_policy="request", min_trust=0.5)
    url, asked_url = f"/groups/{gated['id']}", f"/groups/{asked['id']}"
    unscored = any_api.post(f"{url}/join", json={}, headers=hh)
    assert unscored.status_code == 403 and unscored.json()["detail"]["reason"] == "trust_unknown"
    _publish(any_api, {low["id"]: 0.2, high["id"]: 0.8, later["id"]: 0.9})
    too_low = any_api.post(f"{url}/join", json={}, headers=hl)
    assert too_low.status_code == 403 and too_low.json()["detail"]["reason"] == "trust_too_low"
    assert any_api.post(f"{url}/join", json={}, headers=hh).json() == {"status": "member"}
    # Trust is checked again when a moderator approves: it may have fallen meanwhile.
    assert any_api.post(f"{asked_url}/join", json={}, headers=hlater).json()["status"] == "pending"
    _publish(any_api, {later["id"]: 0.1})
    refused = any_api.post(f"{asked_url}/requests/{later['id']}/approve", headers=ho)
    assert refused.status_code == 403 and refused.json()["detail"]["reason"] == "trust_too_low"
    still = any_api.get(f"{asked_url}/requests", headers=ho).json()
    assert [r["status"] for r in still] == ["pending"]


def test_a_trust_gate_fails_closed_without_the_store(tmp_path: Path) -> None:
    # Port 1 on loopback: nothing listens, so the online store refuses every read at once.
    settings = Settings(data_dir=tmp_path, database_url=None, redis_url="redis://127.0.0.1:1/0")
    with TestClient(create_app(settings, relay_every_s=None)) as api:
        _owner, ho = signed_in(api)
        _joiner, hj = signed_in(api)
        gated = _group(api, ho, min_trust=0.1)
        open_to_all = _group(api, ho)
        refused = api.post(f"/groups/{gated['id']}/join", json={}, headers=hj)
        # A group without a minimum never asks the store.
        joined = api.post(f"/groups/{open_to_all['id']}/join", json={}, headers=hj)
    assert refused.status_code == 503
    assert refused.json()["detail"]["reason"] == "trust_unavailable"
    assert joined.status_code == 200

from __future__ import annotations

import json
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.core_api.routers.helpers import events, last_code, signed_in

H = dict[str, str]


def _verify(api: TestClient, account: dict[str, Any], headers: H) -> None:
    assert api.post("/identity/verify/email", headers=headers).status_code == 202
    code = last_code(api, account["email"])
    done = api.post("/identity/verify/email/confirm", json={"code": code}, headers=headers)
    assert done.status_code == 200


def _first_admin(api: TestClient, monkeypatch: pytest.MonkeyPatch) -> tuple[dict[str, Any], H]:
    account, headers = signed_in(api)
    settings = api.app.state.services.settings
    monkeypatch.setattr(settings, "admin_emails", f"other@example.com, {account['email'].upper()}")
    assert api.post("/admin/bootstrap", headers=headers).status_code == 403  # not verified yet
    _verify(api, account, headers)
    assert api.post("/admin/bootstrap", headers=headers).status_code == 201
    assert api.post("/admin/bootstrap", headers=headers).status_code == 200  # idempotent
    return account, headers


def _set(api: TestClient, headers: H, user_id: str, new: str, reason: str = "spam_wave") -> Any:
    body = {"status": new, "reason_code": reason, "note": "see case 12"}
    return api.post(f"/admin/users/{user_id}/status", json=body, headers=headers)


def test_status_changes_are_audited_and_evented_on_each_database(
    any_api: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    admin, ah = _first_admin(any_api, monkeypatch)
    user, _ = signed_in(any_api)
    assert _set(any_api, ah, user["id"], "suspended").json()["status"] == "suspended"
    assert _set(any_api, ah, user["id"], "suspended").status_code == 409  # no change
    assert _set(any_api, ah, user["id"], "banned", "fraud_confirmed").status_code == 200
    assert _set(any_api, ah, user["id"], "active", "appeal_upheld").status_code == 200
    trail = any_api.get(f"/admin/users/{user['id']}/audit", headers=ah).json()
    assert [(t["status_before"], t["status_after"], t["reason_code"]) for t in trail] == [
        ("active", "suspended", "spam_wave"),
        ("suspended", "banned", "fraud_confirmed"),
        ("banned", "active", "appeal_upheld"),
    ]
    assert {t["actor_id"] for t in trail} == {admin["id"]} and trail[0]["note"] == "see case 12"
    changed = [json.loads(e.line) for e in events(any_api, "ACCOUNT_STATUS_CHANGED")]
    assert [c["payload"] for c in changed][:2] == [
        {"account_status": "suspended", "previous_status": "active", "reason_code": "spam_wave"},
        {
            "account_status": "banned",
            "previous_status": "suspended",
            "reason_code": "fraud_confirmed",
        },
    ]
    assert all(c["actor_id"] == admin["id"] and c["subject_id"] == user["id"] for c in changed)


def test_locked_accounts_are_denied_everything_but_appeal(
    api: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    _admin, ah = _first_admin(api, monkeypatch)
    user, uh = signed_in(api)
    friend, fh = signed_in(api)
    chat = api.post("/social/conversations", json={"participant_ids": [friend["id"]]}, headers=uh)
    assert api.post("/social/posts", json={"body": "x", "topic": "art"}, headers=uh).is_success
    assert api.post("/admin/appeals", json={"body": "why"}, headers=uh).status_code == 409
    _set(api, ah, user["id"], "banned")
    attempts = {
        "post": api.post("/social/posts", json={"body": "x", "topic": "art"}, headers=uh),
        "message": api.post(
            f"/social/conversations/{chat.json()['id']}/messages", json={"body": "x"}, headers=uh
        ),
        "follow": api.put(f"/social/follows/{friend['id']}", headers=uh),
        "workspace": api.post("/collab/workspaces", json={"name": "w"}, headers=uh),
        "conversation": api.post(
            "/social/conversations", json={"participant_ids": [friend["id"]]}, headers=uh
        ),
    }
    for what, response in attempts.items():
        assert response.status_code == 403, what
        assert response.json()["detail"]["reason"] == "account_banned", what
    appealed = api.post("/admin/appeals", json={"body": "it was not me"}, headers=uh)
    assert appealed.status_code == 201 and appealed.json()["account_status"] == "banned"
    assert [a["body"] for a in api.get("/admin/appeals", headers=ah).json()] == ["it was not me"]
    _set(api, ah, user["id"], "active", "appeal_upheld")
    assert api.post("/social/posts", json={"body": "back", "topic": "art"}, headers=uh).is_success
    # The friend was never touched.
    assert api.put(f"/social/follows/{user['id']}", headers=fh).status_code == 201


def test_only_admins_administer(api: TestClient, monkeypatch: pytest.MonkeyPatch) -> None:
    admin, ah = _first_admin(api, monkeypatch)
    user, uh = signed_in(api)
    other, _ = signed_in(api)
    probes = [
        _set(api, uh, other["id"], "banned"),
        _set(api, uh, user["id"], "active"),
        api.get(f"/admin/users/{other['id']}/audit", headers=uh),
        api.put(f"/admin/roles/{user['id']}", json={"role": "admin"}, headers=uh),
        api.get("/admin/roles", headers=uh),
        api.get("/admin/appeals", headers=uh),
        api.post("/admin/bootstrap", headers=uh),  # not on the list
    ]
    assert [p.status_code for p in probes] == [403] * len(probes)
    assert not events(api, "ACCOUNT_STATUS_CHANGED")
    granted = api.put(f"/admin/roles/{user['id']}", json={"role": "admin"}, headers=ah)
    assert granted.status_code == 201 and granted.json()["granted_by"] == admin["id"]
    assert _set(api, uh, other["id"], "suspended").status_code == 200  # now an admin
    assert _set(api, uh, user["id"], "banned").status_code == 409  # not on oneself
    assert api.delete(f"/admin/roles/{user['id']}/admin", headers=uh).status_code == 409
    assert api.delete(f"/admin/roles/{user['id']}/admin", headers=ah).status_code == 204
    assert api.get("/admin/roles", headers=uh).status_code == 403
    grants = api.get("/admin/roles", headers=ah).json()
    assert [(g["user_id"], g["granted_by"]) for g in grants] == [(admin["id"], None)]


def test_admin_input_errors_are_4xx(api: TestClient, monkeypatch: pytest.MonkeyPatch) -> None:
    _admin, ah = _first_admin(api, monkeypatch)
    user, _ = signed_in(api)
    url = f"/admin/users/{user['id']}/status"
    cases = [
        ({"status": "deleted", "reason_code": "x"}, 422),
        ({"status": "banned", "reason_code": "Has Spaces"}, 422),
        ({"status": "banned"}, 422),
        ({"status": "banned", "reason_code": "x", "actor_id": "me"}, 422),
    ]
    for body, code in cases:
        assert api.post(url, json=body, headers=ah).status_code == code, body
    ghost = "/admin/users/00000000-0000-4000-8000-000000000000/status"
    assert (
        api.post(ghost, json={"status": "banned", "reason_code": "x"}, headers=ah).status_code
        == 404
    )
    assert (
        api.put(f"/admin/roles/{user['id']}", json={"role": "root"}, headers=ah).status_code == 422
    )
    assert api.delete(f"/admin/roles/{user['id']}/admin", headers=ah).status_code == 404

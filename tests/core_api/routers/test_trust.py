from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

from fastapi.testclient import TestClient

from core_api.db.identity import User
from tests.core_api.routers.helpers import events, last_code, signed_in

H = dict[str, str]


def _age(api: TestClient, user_id: str, *, days: int = 2) -> None:
    with api.app.state.services.sessions() as s:
        s.get(User, user_id).created_at -= timedelta(days=days)
        s.commit()


def _mfa(api: TestClient, account: dict[str, Any], headers: H) -> H:
    """Verify the e-mail, then answer a second-factor challenge: a raised session."""
    assert api.post("/identity/verify/email", headers=headers).status_code == 202
    code = last_code(api, account["email"])
    confirm = api.post("/identity/verify/email/confirm", json={"code": code}, headers=headers)
    assert confirm.status_code == 200
    assert api.post("/identity/mfa/challenge", headers=headers).status_code == 202
    raised = api.post(
        "/identity/mfa/verify", json={"code": last_code(api, account["email"])}, headers=headers
    )
    assert raised.status_code == 200, raised.text
    return {"Authorization": f"Bearer {raised.json()['access_token']}"}


def _connect(api: TestClient, headers: H, user_id: str, weight: float = 0.8) -> Any:
    body = {"user_id": user_id, "edge_type": "friend", "weight": weight}
    return api.put("/identity/trust/connect", json=body, headers=headers)


def test_trust_connect_is_a_critical_action(any_api: TestClient) -> None:
    me, h = signed_in(any_api)
    other, _ = signed_in(any_api)
    young = _connect(any_api, h, other["id"])
    assert young.status_code == 403 and young.json()["detail"]["reason"] == "new_account"
    _age(any_api, me["id"])
    unverified = _connect(any_api, h, other["id"])
    assert unverified.status_code == 401
    assert "insufficient_user_authentication" in unverified.headers["WWW-Authenticate"]
    assert not events(any_api, "TRUST_CONNECTION_ADDED")
    raised = _mfa(any_api, me, h)
    made = _connect(any_api, raised, other["id"])
    assert made.status_code == 201, made.text
    assert made.json()["weight"] == 0.8
    assert _connect(any_api, raised, other["id"]).status_code == 200  # same edge, no new event
    assert _connect(any_api, raised, other["id"], 0.3).json()["weight"] == 0.3
    added = [json.loads(e.line) for e in events(any_api, "TRUST_CONNECTION_ADDED")]
    assert [e["payload"] for e in added] == [
        {"edge_type": "friend", "weight": 0.8},
        {"edge_type": "friend", "weight": 0.3},
    ]
    assert {(e["actor_id"], e["subject_id"]) for e in added} == {(me["id"], other["id"])}
    mine = any_api.get("/identity/trust/connections", headers=raised).json()
    assert [(c["to_user_id"], c["weight"]) for c in mine] == [(other["id"], 0.3)]
    gone = any_api.delete(f"/identity/trust/connect/{other['id']}/friend", headers=raised)
    assert gone.status_code == 204
    assert len(events(any_api, "TRUST_CONNECTION_REMOVED")) == 1
    assert any_api.get("/identity/trust/connections", headers=raised).json() == []


def test_trust_connect_input_errors_are_4xx(api: TestClient) -> None:
    me, h = signed_in(api)
    other, _ = signed_in(api)
    cases = [
        ({"user_id": other["id"], "edge_type": "friend", "weight": 1.5}, 422),
        ({"user_id": other["id"], "edge_type": "enemy", "weight": 0.5}, 422),
        ({"user_id": other["id"], "edge_type": "friend"}, 422),
        ({"user_id": me["id"], "edge_type": "friend", "weight": 0.5}, 422),
        (
            {
                "user_id": "00000000-0000-4000-8000-000000000000",
                "edge_type": "friend",
                "weight": 0.5,
            },
            404,
        ),
    ]
    for body, code in cases:
        got = api.put("/identity/trust/connect", json=body, headers=h)
        assert got.status_code == code, (body, got.text)
    assert api.delete(f"/identity/trust/connect/{other['id']}/enemy", headers=h).status_code == 422

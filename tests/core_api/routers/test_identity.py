from __future__ import annotations

import json
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from fastapi.testclient import TestClient

from core_api.db.identity import User
from tests.core_api.routers.helpers import PASSWORD, events, login, register, signed_in


def _bearer(tokens: dict) -> dict[str, str]:
    return {"Authorization": f"Bearer {tokens['access_token']}"}


def test_register_login_refresh_on_each_database(any_api: TestClient) -> None:
    account = register(any_api, "Ada@Example.com")
    assert account["email"] == "ada@example.com"
    assert not {"password", "password_hash"} & set(account)
    tokens = login(any_api, "ada@example.com")
    me = any_api.get("/identity/me", headers=_bearer(tokens))
    assert me.status_code == 200 and me.json()["id"] == account["id"]
    fresh = any_api.post("/identity/refresh", json={"refresh_token": tokens["refresh_token"]})
    assert fresh.status_code == 200
    assert fresh.json()["refresh_token"] != tokens["refresh_token"]
    kinds = [e.event_type for e in events(any_api)]
    assert kinds == ["USER_REGISTERED", "DEVICE_ADDED", "USER_LOGGED_IN", "USER_LOGGED_IN"]


def test_refresh_token_reuse_revokes_the_whole_family(any_api: TestClient) -> None:
    account = register(any_api)
    first = login(any_api, account["email"])
    second = any_api.post("/identity/refresh", json={"refresh_token": first["refresh_token"]})
    assert second.status_code == 200
    reused = any_api.post("/identity/refresh", json={"refresh_token": first["refresh_token"]})
    assert reused.status_code == 401
    assert reused.json()["detail"]["reason"] == "token_reused"
    # The thief's copy and the owner's newer token and access token all stop working.
    newer = any_api.post(
        "/identity/refresh", json={"refresh_token": second.json()["refresh_token"]}
    )
    assert newer.status_code == 401
    assert any_api.get("/identity/me", headers=_bearer(second.json())).status_code == 401
    # Another login of the same user is another family, untouched.
    assert any_api.get("/identity/me", headers=_bearer(login(any_api, account["email"]))).is_success


def test_register_refuses_bad_input_with_4xx(api: TestClient) -> None:
    register(api, "taken@example.com")
    cases = [
        ({"email": "taken@example.com", "password": PASSWORD, "display_name": "B"}, 409),
        ({"email": "not-an-email", "password": PASSWORD, "display_name": "B"}, 422),
        ({"email": "b@example.com", "password": "short", "display_name": "B"}, 422),
        ({"email": "c@example.com", "password": PASSWORD, "display_name": "C", "status": "x"}, 422),
        (
            {
                "email": "d@example.com",
                "password": PASSWORD,
                "display_name": "D",
                "referrer_id": "00000000-0000-4000-8000-000000000000",
            },
            422,
        ),
    ]
    for body, expected in cases:
        assert api.post("/identity/register", json=body).status_code == expected, body
    assert api.post("/identity/register", content=b"{not json").status_code == 422


def test_failed_login_is_refused_and_recorded(api: TestClient) -> None:
    account = register(api)
    wrong = api.post("/identity/login", json={"email": account["email"], "password": "nope"})
    unknown = api.post("/identity/login", json={"email": "x@example.com", "password": "nope"})
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json() == unknown.json()  # no hint which of the two was wrong
    reasons = [json.loads(e.line)["payload"]["failure_reason"] for e in events(api, "LOGIN_FAILED")]
    assert reasons == ["bad_password", "unknown_user"]


def test_login_records_each_device_once(api: TestClient) -> None:
    account, _ = signed_in(api)
    tokens = login(api, account["email"], device="dev-1")
    login(api, account["email"], device="phone-2")
    devices = api.get("/identity/devices", headers=_bearer(tokens)).json()
    assert len(devices) == 2 and "fingerprint" not in devices[0]
    added = [json.loads(e.line) for e in events(api, "DEVICE_ADDED")]
    assert [e["payload"]["device_id"] for e in added] == ["dev-1", "phone-2"]
    assert added[0]["context"]["ip"] == "203.0.113.7"


def _one_window(api: TestClient) -> None:
    """Rate limits use fixed windows: a test whose requests straddle a window's end would see
    the count restart. Freeze the decider's clock inside one window."""
    frozen = time.time()
    api.app.state.services.decider.clock = lambda: frozen


def test_login_throttle_is_per_account_and_source_with_backoff(api: TestClient) -> None:
    # At the start of an hour, so a minute's step forward stays inside the 15-min and 1-h windows.
    hour = time.time() // 3600 * 3600 + 5
    decider = api.app.state.services.decider
    decider.clock = lambda: hour
    account = register(api)
    wrong = {"email": account["email"], "password": "wrong password"}
    codes = [api.post("/identity/login", json=wrong).status_code for _ in range(6)]
    assert codes == [401] * 5 + [429]  # rules.toml: 5 per minute per account and source
    refused = api.post("/identity/login", json={**wrong, "password": PASSWORD})
    assert refused.json()["detail"]["reason"] == "rate_limited_user_ip"
    assert refused.headers["Retry-After"] == "55"  # the minute's window ends 55 s from now
    # The owner, from another address, is not locked out by the guesses.
    elsewhere = TestClient(api.app, client=("198.51.100.20", 40000))
    assert elsewhere.post("/identity/login", json={**wrong, "password": PASSWORD}).is_success
    # Backoff: a minute later the next step holds, 10 per 15 minutes (7 counted so far).
    decider.clock = lambda: hour + 60
    codes = [api.post("/identity/login", json=wrong).status_code for _ in range(4)]
    assert codes == [401, 401, 401, 429]
    assert api.post("/identity/login", json=wrong).headers["Retry-After"] == str(900 - 65)


def test_registration_is_rate_limited_per_ip(api: TestClient) -> None:
    _one_window(api)
    for _ in range(10):
        register(api)
    body = {"email": "eleventh@example.com", "password": PASSWORD, "display_name": "E"}
    refused = api.post("/identity/register", json=body)
    assert refused.status_code == 429
    assert refused.json()["detail"]["reason"] == "rate_limited_ip"


@pytest.mark.parametrize("status", ["banned", "suspended"])
def test_locked_account_logs_in_to_an_appeal_only_session(api: TestClient, status: str) -> None:
    account = register(api)
    with api.app.state.services.sessions() as s:
        s.get(User, account["id"]).status = status
        s.commit()
    tokens = login(api, account["email"])
    assert tokens["scope"] == "appeal"
    headers = _bearer(tokens)
    assert api.get("/identity/me", headers=headers).json()["status"] == status
    for refused in (
        api.get("/payments/wallets", headers=headers),
        api.get("/social/feed", headers=headers),
        api.post("/social/posts", json={"body": "x", "topic": "art"}, headers=headers),
    ):
        assert refused.status_code == 403
        assert refused.json()["detail"]["reason"] == f"account_{status}"
    appealed = api.post("/admin/appeals", json={"body": "let me back"}, headers=headers)
    assert appealed.status_code == 201 and appealed.json()["account_status"] == status
    again = api.post("/identity/refresh", json={"refresh_token": tokens["refresh_token"]})
    assert again.status_code == 200 and again.json()["scope"] == "appeal"
    assert api.post("/identity/logout", headers=headers).status_code == 204


def test_closed_account_cannot_log_in(api: TestClient) -> None:
    account = register(api)
    with api.app.state.services.sessions() as s:
        s.get(User, account["id"]).status = "closed"
        s.commit()
    response = api.post("/identity/login", json={"email": account["email"], "password": PASSWORD})
    assert response.status_code == 403
    assert response.json()["detail"]["reason"] == "account_closed"


def test_bad_access_tokens_get_a_bearer_challenge(api: TestClient) -> None:
    missing = api.get("/identity/me")
    garbage = api.get("/identity/me", headers={"Authorization": "Bearer not.a.jwt"})
    assert missing.status_code == garbage.status_code == 401
    assert missing.headers["www-authenticate"] == "Bearer"
    assert garbage.headers["www-authenticate"] == 'Bearer error="invalid_token"'


def test_logout_ends_the_session(api: TestClient) -> None:
    _, headers = signed_in(api)
    assert api.post("/identity/logout", headers=headers).status_code == 204
    assert api.get("/identity/me", headers=headers).status_code == 401


def test_concurrent_reuse_of_one_refresh_token_rotates_once(any_api: TestClient) -> None:
    tokens = login(any_api, register(any_api)["email"])
    body = {"refresh_token": tokens["refresh_token"]}
    with ThreadPoolExecutor(max_workers=4) as pool:
        codes = sorted(
            pool.map(lambda _: any_api.post("/identity/refresh", json=body).status_code, range(4))
        )
    assert codes == [200, 401, 401, 401]  # one rotation; the others count as reuse

"""Username (unique, case-folded), avatar, date of birth, country; devices' trust levels; the
verifications list that replaced the two timestamps (their old names still answer)."""

from __future__ import annotations

import json

from fastapi.testclient import TestClient

from tests.core_api.routers.helpers import PASSWORD, events, last_code, login, signed_in


def test_username_country_and_dob_at_sign_up_and_in_the_profile(any_api: TestClient) -> None:
    body = {
        "email": "ada@example.com",
        "password": PASSWORD,
        "display_name": "Ada",
        "username": "Ada_L",
        "country": "gb",
        "dob": "1990-12-10",
    }
    made = any_api.post("/identity/register", json=body)
    assert made.status_code == 201, made.text
    assert (made.json()["username"], made.json()["country"], made.json()["dob"]) == (
        "ada_l",
        "GB",
        "1990-12-10",
    )
    registered = json.loads(events(any_api, "USER_REGISTERED")[0].line)
    assert registered["payload"]["declared_country"] == "GB"
    taken = any_api.post(
        "/identity/register", json={**body, "email": "b@example.com", "username": "ADA_L"}
    )
    assert (taken.status_code, taken.json()["detail"]["reason"]) == (409, "username_taken")
    other, h = signed_in(any_api)
    clash = any_api.patch("/identity/profile", json={"username": "ada_l"}, headers=h)
    assert clash.status_code == 409
    patch = {"username": "grace", "avatar_url": "https://cdn.test/g.png", "country": "FR"}
    assert any_api.patch("/identity/profile", json=patch, headers=h).status_code == 200
    tokens = login(any_api, "ada@example.com")
    seen = any_api.get(
        f"/identity/profile/{other['id']}",
        headers={"Authorization": f"Bearer {tokens['access_token']}"},
    ).json()
    assert (seen["username"], seen["avatar_url"], seen["country"]) == (
        "grace",
        "https://cdn.test/g.png",
        "FR",
    )
    assert "dob" not in seen  # private
    for bad in (
        {"username": "a"},
        {"username": "no spaces"},
        {"avatar_url": "javascript:alert(1)"},
        {"country": "FRA"},
        {"dob": "2030-01-01"},
        {"dob": "1800-01-01"},
    ):
        assert any_api.patch("/identity/profile", json=bad, headers=h).status_code == 422, bad


def test_verifications_replace_the_timestamps_and_devices_earn_trust(any_api: TestClient) -> None:
    account, h = signed_in(any_api)  # signed in from device "dev-1"
    assert any_api.get("/identity/verifications", headers=h).json() == []
    assert any_api.post("/identity/verify/email", headers=h).status_code == 202
    [pending] = any_api.get("/identity/verifications", headers=h).json()
    assert (pending["kind"], pending["status"], pending["decided_at"]) == ("email", "pending", None)
    code = last_code(any_api, account["email"])
    done = any_api.post("/identity/verify/email/confirm", json={"code": code}, headers=h)
    assert done.status_code == 200
    [verified] = any_api.get("/identity/verifications", headers=h).json()
    assert verified["status"] == "verified"
    me = any_api.get("/identity/me", headers=h).json()
    assert me["email_verified_at"] == verified["decided_at"] and me["phone_verified_at"] is None
    assert [d["trust_level"] for d in any_api.get("/identity/devices", headers=h).json()] == ["new"]
    login(any_api, account["email"])  # the same device again
    assert any_api.get("/identity/devices", headers=h).json()[0]["trust_level"] == "known"
    assert any_api.post("/identity/mfa/challenge", headers=h).status_code == 202
    code = last_code(any_api, account["email"])
    assert any_api.post("/identity/mfa/verify", json={"code": code}, headers=h).status_code == 200
    assert any_api.get("/identity/devices", headers=h).json()[0]["trust_level"] == "trusted"

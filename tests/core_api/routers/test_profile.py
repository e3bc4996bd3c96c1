from __future__ import annotations

import json

from fastapi.testclient import TestClient

from tests.core_api.routers.helpers import events, signed_in


def test_public_profile_shows_no_private_fields(api: TestClient) -> None:
    other, _ = signed_in(api)
    _, headers = signed_in(api)
    profile = api.get(f"/identity/profile/{other['id']}", headers=headers)
    assert profile.status_code == 200
    assert set(profile.json()) == {
        "id",
        "display_name",
        "bio",
        "verified",
        "created_at",
        "username",
        "avatar_url",
        "country",
    }  # no e-mail, phone or date of birth


def test_profile_lookups_answer_4xx(api: TestClient) -> None:
    account, headers = signed_in(api)
    assert api.get(f"/identity/profile/{account['id']}").status_code == 401
    missing = "00000000-0000-4000-8000-000000000000"
    assert api.get(f"/identity/profile/{missing}", headers=headers).status_code == 404
    assert api.get("/identity/profile/not-a-uuid", headers=headers).status_code == 422


def test_profile_update_changes_only_allowed_fields(api: TestClient) -> None:
    _, headers = signed_in(api)
    ok = api.patch(
        "/identity/profile", json={"display_name": "Grace", "bio": "hi"}, headers=headers
    )
    assert ok.status_code == 200 and ok.json()["display_name"] == "Grace"
    for body in ({"status": "active"}, {"email": "x@example.com"}, {"phone": "12345"}):
        assert api.patch("/identity/profile", json=body, headers=headers).status_code == 422
    assert events(api, "CREDENTIAL_CHANGED") == []  # no credential changed yet


def test_new_phone_is_unverified_and_a_credential_change(api: TestClient) -> None:
    _, headers = signed_in(api)
    body = api.patch("/identity/profile", json={"phone": "+4915112345678"}, headers=headers).json()
    assert body["phone"] == "+4915112345678" and body["phone_verified_at"] is None
    [event] = events(api, "CREDENTIAL_CHANGED")
    assert json.loads(event.line)["payload"] == {"credential": "phone"}

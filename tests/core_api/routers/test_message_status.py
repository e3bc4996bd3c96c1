"""Messages carry media URLs and a sent/read status the recipient moves by reading."""

from __future__ import annotations

import json

from fastapi.testclient import TestClient

from tests.core_api.routers.helpers import events, signed_in


def test_messages_are_sent_then_read_by_the_recipient(any_api: TestClient) -> None:
    _a, ha = signed_in(any_api)
    b, hb = signed_in(any_api)
    _c, hc = signed_in(any_api)
    made = any_api.post("/social/conversations", json={"participant_ids": [b["id"]]}, headers=ha)
    url = f"/social/conversations/{made.json()['id']}"
    sent = any_api.post(
        f"{url}/messages",
        json={"body": "photo", "media_urls": ["https://cdn.test/p.jpg"]},
        headers=ha,
    ).json()
    assert (sent["status"], sent["read_at"], sent["media_urls"]) == (
        "sent",
        None,
        ["https://cdn.test/p.jpg"],
    )
    assert any_api.post(f"{url}/messages", json={"body": "reply"}, headers=hb).status_code == 201
    assert any_api.post(f"{url}/read", headers=ha).json() == {"marked": 1}  # b's reply
    assert any_api.post(f"{url}/read", headers=hb).json() == {"marked": 1}
    assert any_api.post(f"{url}/read", headers=hb).json() == {"marked": 0}
    listed = any_api.get(f"{url}/messages", headers=ha).json()
    assert [m["status"] for m in listed] == ["read", "read"]
    assert all(m["read_at"] for m in listed)
    assert any_api.post(f"{url}/read", headers=hc).status_code == 404  # not a participant
    payloads = [json.loads(e.line)["payload"] for e in events(any_api, "MESSAGE_SENT")]
    assert [p["has_media"] for p in payloads] == [True, False]

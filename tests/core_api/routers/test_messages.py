from __future__ import annotations

import json

from fastapi.testclient import TestClient

from tests.core_api.routers.helpers import events, signed_in


def test_only_participants_read_or_write_a_conversation(any_api: TestClient) -> None:
    a, ha = signed_in(any_api)
    b, hb = signed_in(any_api)
    _c, hc = signed_in(any_api)
    made = any_api.post("/social/conversations", json={"participant_ids": [b["id"]]}, headers=ha)
    assert made.status_code == 201
    conversation = made.json()
    assert conversation["participant_ids"] == sorted([a["id"], b["id"]])
    url = f"/social/conversations/{conversation['id']}"
    sent = any_api.post(f"{url}/messages", json={"body": "see https://x.test"}, headers=ha)
    assert sent.status_code == 201
    assert any_api.post(f"{url}/messages", json={"body": "hello"}, headers=hb).status_code == 201
    assert [m["body"] for m in any_api.get(f"{url}/messages", headers=hb).json()] == [
        "see https://x.test",
        "hello",
    ]
    # The outsider cannot read, write, or even learn that the conversation exists.
    outsider = [
        any_api.get(url, headers=hc),
        any_api.get(f"{url}/messages", headers=hc),
        any_api.post(f"{url}/messages", json={"body": "spam"}, headers=hc),
    ]
    assert [r.status_code for r in outsider] == [404, 404, 404]
    assert any_api.get("/social/conversations", headers=hc).json() == []
    assert [c["id"] for c in any_api.get("/social/conversations", headers=hb).json()] == [
        conversation["id"]
    ]
    sent_events = [json.loads(e.line) for e in events(any_api, "MESSAGE_SENT")]
    assert [(e["actor_id"], e["subject_id"]) for e in sent_events] == [
        (a["id"], b["id"]),
        (b["id"], a["id"]),
    ]
    assert sent_events[0]["payload"]["has_link"] is True
    assert sent_events[0]["payload"]["conversation_id"] == conversation["id"]


def test_conversation_input_errors_are_4xx(api: TestClient) -> None:
    me, h = signed_in(api)
    cases = [
        ({"participant_ids": []}, 422),
        ({"participant_ids": [me["id"]]}, 422),
        ({"participant_ids": ["00000000-0000-4000-8000-000000000000"]}, 404),
        ({"participant_ids": ["nope"]}, 422),
    ]
    for body, code in cases:
        assert api.post("/social/conversations", json=body, headers=h).status_code == code, body
    missing = "/social/conversations/00000000-0000-4000-8000-000000000000/messages"
    assert api.post(missing, json={"body": "x"}, headers=h).status_code == 404

"""The loop's missing signals: reports, blocks, unfollows, feed impressions, signed chargebacks."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from core_api.app import create_app
from core_api.db.money import LedgerTransaction
from core_api.db.review import ReviewCase
from core_api.routers.webhooks import sign
from core_api.services import review
from settings import Settings
from tests.core_api.conftest import CLIENT_IP
from tests.core_api.routers.helpers import events, signed_in
from tests.core_api.routers.money_helpers import fund, trusted

SECRET = "whsec-test-0123456789abcdef"
H = dict[str, str]


def _payloads(api: TestClient, event_type: str) -> list[dict[str, Any]]:
    return [json.loads(e.line) for e in events(api, event_type)]


def test_report_and_block_emit_and_feed_the_queue(any_api: TestClient) -> None:
    reporter, hr = signed_in(any_api)
    shady, hs = signed_in(any_api)
    url = f"/social/users/{shady['id']}/reports"
    made = any_api.post(url, json={"reason": "scam", "note": "asked for a deposit"}, headers=hr)
    assert made.status_code == 201 and made.json()["reported_id"] == shady["id"]
    assert any_api.post(url, json={"reason": "nope"}, headers=hr).status_code == 422
    own = f"/social/users/{reporter['id']}/reports"
    assert any_api.post(own, json={"reason": "spam"}, headers=hr).status_code == 422
    nobody = f"/social/users/{uuid.uuid4()}/reports"
    assert any_api.post(nobody, json={"reason": "spam"}, headers=hr).status_code == 404
    (reported,) = _payloads(any_api, "USER_REPORTED")
    assert (reported["actor_id"], reported["subject_id"]) == (reporter["id"], shady["id"])
    assert reported["payload"] == {"report_reason": "scam"}
    assert any_api.put(f"/social/follows/{reporter['id']}", headers=hs).status_code == 201
    assert any_api.put(f"/social/blocks/{shady['id']}", headers=hr).status_code == 201
    assert any_api.put(f"/social/blocks/{shady['id']}", headers=hr).status_code == 200
    assert any_api.get(f"/social/follows/{reporter['id']}", headers=hs).status_code == 404
    (blocked,) = _payloads(any_api, "USER_BLOCKED")
    assert blocked["subject_id"] == shady["id"] and blocked["payload"] == {}
    assert any_api.delete(f"/social/blocks/{shady['id']}", headers=hr).status_code == 204
    with any_api.app.state.services.sessions() as s:
        assert review.sync_cases(s).opened == 1
        assert s.scalars(select(ReviewCase.reasons)).one() == "reported for scam"


def test_unfollow_and_feed_reads_are_events(api: TestClient) -> None:
    author, ha = signed_in(api)
    reader, hr = signed_in(api)
    assert api.put(f"/social/follows/{author['id']}", headers=hr).status_code == 201
    for text in ("one", "two"):
        made = api.post(
            "/social/posts",
            json={"body": text, "topic": "tech", "visibility": "public"},
            headers=ha,
        )
        assert made.status_code == 201
    page = api.get("/social/feed", headers=hr).json()
    shown = [item["post"]["id"] for item in page["items"]]
    assert len(shown) == 2
    seen = _payloads(api, "POST_ENGAGED")
    assert [(e["subject_id"], e["payload"]["feed_position"]) for e in seen] == [
        (post, i) for i, post in enumerate(shown)
    ]
    assert {e["payload"]["engagement"] for e in seen} == {"view"}
    assert {e["actor_id"] for e in seen} == {reader["id"]}
    assert api.delete(f"/social/follows/{author['id']}", headers=hr).status_code == 204
    (removed,) = _payloads(api, "TRUST_CONNECTION_REMOVED")
    assert removed["payload"] == {"edge_type": "follow"} and removed["subject_id"] == author["id"]


@pytest.fixture
def hooked(sqlite_settings: Settings) -> Iterator[TestClient]:
    settings = sqlite_settings.model_copy(update={"chargeback_webhook_secret": SECRET})
    with TestClient(create_app(settings, relay_every_s=None), client=(CLIENT_IP, 50000)) as c:
        yield c


def _notify(api: TestClient, body: dict[str, Any], *, secret: str = SECRET, skew: int = 0) -> Any:
    raw = json.dumps(body).encode()
    at = str(int(time.time()) + skew)
    headers = {
        "X-Vouch-Timestamp": at,
        "X-Vouch-Signature": sign(secret, timestamp=at, body=raw),
        "Content-Type": "application/json",
    }
    return api.post("/webhooks/chargebacks", content=raw, headers=headers)


def test_signed_chargeback_webhook(hooked: TestClient) -> None:
    payer, hp = trusted(hooked)
    fund(hooked, hp, "80")
    with hooked.app.state.services.sessions() as s:
        payment = s.scalars(
            select(LedgerTransaction.id).where(LedgerTransaction.initiator_id == payer["id"])
        ).one()
    notice = {
        "network_ref": "cb_1",
        "transaction_id": payment,
        "amount": "80.00",
        "currency": "EUR",
        "reason": "fraudulent",
    }
    unsigned = hooked.post("/webhooks/chargebacks", json=notice)
    assert unsigned.status_code == 401
    assert _notify(hooked, notice, secret="wrong-secret-0123456789").status_code == 401
    assert _notify(hooked, notice, skew=-3600).status_code == 401  # a replay from an hour ago
    assert _notify(hooked, {**notice, "amount": "80.01"}).status_code == 422
    assert _notify(hooked, {**notice, "transaction_id": str(uuid.uuid4())}).status_code == 404
    assert _notify(hooked, {**notice, "amount": "-1"}).status_code == 422
    first = _notify(hooked, notice)
    assert first.status_code == 201, first.text
    assert first.json()["user_id"] == payer["id"]
    assert _notify(hooked, notice).status_code == 200  # redelivered: one chargeback
    (event,) = _payloads(hooked, "CHARGEBACK_RECEIVED")
    assert (event["actor_id"], event["subject_id"]) == (payer["id"], payment)
    assert event["payload"] == {
        "amount": "80.0000",
        "currency": "EUR",
        "chargeback_reason": "fraudulent",
    }
    with hooked.app.state.services.sessions() as s:
        review.sync_cases(s)
        opened = s.scalars(select(ReviewCase.source)).all()
    assert opened == ["chargeback"]


def test_chargeback_webhook_is_absent_without_a_secret(api: TestClient) -> None:
    assert api.post("/webhooks/chargebacks", json={}).status_code == 404

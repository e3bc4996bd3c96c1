from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.core_api.routers.helpers import events, signed_in
from tests.core_api.routers.money_helpers import (
    age,
    assert_ledger_consistent,
    balance,
    fund,
    key,
    trusted,
)

H = dict[str, str]
LISTING = {
    "title": "Kettle",
    "category": "home",
    "item_condition": "new",
    "price": "10",
    "currency": "EUR",
    "quantity": 5,
    "lat": 48.85,
    "lon": 2.35,
}


def _arbiter(api: TestClient, monkeypatch: pytest.MonkeyPatch) -> tuple[dict[str, Any], H]:
    """An admin whose session holds a fresh second factor (arbitration moves escrow money)."""
    account, headers = trusted(api)
    monkeypatch.setattr(api.app.state.services.settings, "admin_emails", account["email"])
    assert api.post("/admin/bootstrap", headers=headers).status_code == 201
    return account, headers


def _disputed_order(api: TestClient, buyer: H, listing_id: str) -> str:
    placed = api.post("/marketplace/orders", json={"listing_id": listing_id}, headers=buyer)
    order = placed.json()["id"]
    paid = api.post(f"/marketplace/orders/{order}/pay", headers={**buyer, **key()})
    assert paid.status_code == 200, paid.text
    body = {"dispute_reason": "not_as_described"}
    disputed = api.post(f"/marketplace/orders/{order}/dispute", json=body, headers=buyer)
    assert disputed.json()["status"] == "disputed"
    return order


def _arbitrate(api: TestClient, order: str, outcome: str, headers: H) -> Any:
    url = f"/admin/disputes/{order}/resolve"
    return api.post(url, json={"outcome": outcome}, headers=headers)


def test_arbiter_finds_for_buyer_or_seller_moving_escrow(
    api: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    _, ah = _arbiter(api, monkeypatch)
    seller, sh = trusted(api)
    buyer, bh = trusted(api)
    listing = api.post("/marketplace/listings", json=LISTING, headers=sh).json()
    fund(api, bh, "20")
    first, second = (_disputed_order(api, bh, listing["id"]) for _ in range(2))
    assert [o["id"] for o in api.get("/admin/disputes", headers=ah).json()] == [first, second]
    refund_key = {**ah, **key()}
    refunded = _arbitrate(api, first, "buyer_won", refund_key)
    assert refunded.status_code == 200 and refunded.json()["status"] == "refunded"
    again = _arbitrate(api, first, "buyer_won", refund_key)
    assert again.headers["Idempotent-Replayed"] == "true" and again.json() == refunded.json()
    released = _arbitrate(api, second, "seller_won", {**ah, **key()})
    assert released.status_code == 200 and released.json()["status"] == "delivered"
    assert balance(api, buyer["id"]) == Decimal(10) and balance(api, seller["id"]) == Decimal(10)
    assert api.get("/admin/disputes", headers=ah).json() == []
    resolved = [json.loads(e.line)["payload"] for e in events(api, "DISPUTE_RESOLVED")]
    assert resolved == [
        {"dispute_outcome": "buyer_won", "seller_id": seller["id"]},
        {"dispute_outcome": "seller_won", "seller_id": seller["id"]},
    ]
    assert len(events(api, "REFUND_ISSUED")) == len(events(api, "ESCROW_RELEASED")) == 1
    assert _arbitrate(api, first, "seller_won", {**ah, **key()}).status_code == 409  # decided
    assert_ledger_consistent(api)


def test_only_an_uninvolved_admin_with_a_fresh_factor_arbitrates(
    api: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    _, ah = _arbiter(api, monkeypatch)
    _, sh = trusted(api)
    _, bh = trusted(api)
    listing = api.post("/marketplace/listings", json=LISTING, headers=sh).json()
    fund(api, bh, "10")
    fund(api, ah, "10")
    order = _disputed_order(api, bh, listing["id"])
    for party in (sh, bh):  # the parties settle with /resolve, never with an arbiter's finding
        assert _arbitrate(api, order, "buyer_won", {**party, **key()}).status_code == 403
    _, stranger = signed_in(api)
    assert _arbitrate(api, order, "seller_won", {**stranger, **key()}).status_code == 403
    own = _disputed_order(api, ah, listing["id"])
    mine = _arbitrate(api, own, "buyer_won", {**ah, **key()})
    assert mine.status_code == 403 and mine.json()["detail"]["reason"] == "party_to_dispute"
    ghost = "00000000-0000-4000-8000-000000000000"
    assert _arbitrate(api, ghost, "buyer_won", {**ah, **key()}).status_code == 404
    assert _arbitrate(api, order, "withdraw", {**ah, **key()}).status_code == 422
    assert _arbitrate(api, order, "buyer_won", ah).status_code == 422  # no Idempotency-Key
    # A second admin without a recent second factor is asked for one (RFC 9470 challenge).
    other, oh = signed_in(api)
    age(api, other["id"])
    assert api.put(f"/admin/roles/{other['id']}", json={"role": "admin"}, headers=ah).is_success
    stepped = _arbitrate(api, order, "seller_won", {**oh, **key()})
    assert stepped.status_code == 401
    assert "insufficient_user_authentication" in stepped.headers["www-authenticate"]
    assert not events(api, "DISPUTE_RESOLVED")

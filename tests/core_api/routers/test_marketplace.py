from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select

from core_api.db.money import Wallet
from tests.core_api.routers.helpers import events, signed_in
from tests.core_api.routers.money_helpers import (
    age,
    assert_ledger_consistent,
    balance,
    fund,
    key,
    trusted,
)

LISTING = {
    "title": "Road bike",
    "category": "sports",
    "item_condition": "used",
    "price": "25.50",
    "currency": "EUR",
    "quantity": 2,
    "lat": 52.52,
    "lon": 13.405,
    "ships_from": "DE",
}


def _listing(api: TestClient, headers: dict[str, str], **extra: Any) -> dict[str, Any]:
    created = api.post("/marketplace/listings", json={**LISTING, **extra}, headers=headers)
    assert created.status_code == 201, created.text
    return created.json()


def _order(api: TestClient, headers: dict[str, str], listing_id: str, qty: int = 1) -> dict:
    body = {"listing_id": listing_id, "quantity": qty}
    placed = api.post("/marketplace/orders", json=body, headers=headers)
    assert placed.status_code == 201, placed.text
    return placed.json()


def _step(api: TestClient, order_id: str, step: str, headers: dict[str, str], **kw: Any) -> Any:
    return api.post(f"/marketplace/orders/{order_id}/{step}", headers=headers, **kw)


def _escrow(api: TestClient) -> Decimal:
    with api.app.state.services.sessions() as s:
        held = s.scalar(select(Wallet.balance).where(Wallet.key == "escrow:EUR"))
    return held if held is not None else Decimal(0)


def test_order_pays_into_escrow_and_delivery_releases_it(any_api: TestClient) -> None:
    seller, s_headers = trusted(any_api)
    buyer, b_headers = trusted(any_api)
    listing = _listing(any_api, s_headers)
    assert listing["price"] == "25.5000" and listing["status"] == "active"
    fund(any_api, b_headers, "100")
    order = _order(any_api, b_headers, listing["id"], qty=2)
    assert (order["status"], order["amount"]) == ("pending", "51.0000")
    sold = any_api.get(f"/marketplace/listings/{listing['id']}", headers=b_headers).json()
    assert (sold["quantity"], sold["status"]) == (0, "sold_out")
    pay_key = {**b_headers, **key()}
    paid = _step(any_api, order["id"], "pay", pay_key)
    assert paid.status_code == 200 and paid.json()["status"] == "paid"
    again = _step(any_api, order["id"], "pay", pay_key)
    assert again.json() == paid.json() and again.headers["Idempotent-Replayed"] == "true"
    assert balance(any_api, buyer["id"]) == Decimal(49) and _escrow(any_api) == Decimal(51)
    assert _step(any_api, order["id"], "ship", s_headers).json()["status"] == "shipped"
    delivered = _step(any_api, order["id"], "deliver", {**b_headers, **key()})
    assert delivered.status_code == 200 and delivered.json()["status"] == "delivered"
    assert balance(any_api, seller["id"]) == Decimal(51) and _escrow(any_api) == 0
    for headers, rating in ((b_headers, 5), (s_headers, 4)):
        posted = any_api.post(
            f"/marketplace/orders/{order['id']}/reviews",
            json={"rating": rating, "body": "ok"},
            headers=headers,
        )
        assert posted.status_code == 201, posted.text
    twice = any_api.post(
        f"/marketplace/orders/{order['id']}/reviews", json={"rating": 1}, headers=b_headers
    )
    assert twice.status_code == 409
    got = any_api.get(f"/marketplace/users/{seller['id']}/reviews", headers=b_headers).json()
    assert [r["rating"] for r in got] == [5]
    assert_ledger_consistent(any_api)
    kinds = [
        e.event_type
        for e in events(any_api)
        if not e.event_type.startswith(("USER_", "DEVICE_", "VERIFICATION_"))
    ]
    assert kinds == [
        "LISTING_CREATED",
        "PAYMENT_SUCCESS",
        "ORDER_PLACED",
        "PAYMENT_SUCCESS",
        "ESCROW_HELD",
        "ORDER_STATUS_CHANGED",
        "ORDER_STATUS_CHANGED",
        "ESCROW_RELEASED",
        "ORDER_STATUS_CHANGED",
        "REVIEW_POSTED",
        "REVIEW_POSTED",
    ]
    held = json.loads(events(any_api, "ESCROW_HELD")[0].line)
    assert held["subject_id"] == order["id"] and held["actor_id"] == buyer["id"]
    assert held["payload"] == {"amount": "51.0000", "currency": "EUR", "seller_id": seller["id"]}


def test_dispute_won_by_buyer_refunds_and_withdrawn_dispute_resumes(api: TestClient) -> None:
    _, s_headers = trusted(api)
    buyer, b_headers = trusted(api)
    listing = _listing(api, s_headers, quantity=5, price="10")
    fund(api, b_headers, "20")
    first, second = (_order(api, b_headers, listing["id"]) for _ in range(2))
    for order in (first, second):
        assert _step(api, order["id"], "pay", {**b_headers, **key()}).status_code == 200
    assert balance(api, buyer["id"]) == 0 and _escrow(api) == Decimal(20)
    disputed = _step(
        api, first["id"], "dispute", b_headers, json={"dispute_reason": "not_received"}
    )
    assert disputed.json()["status"] == "disputed"
    refund = _step(api, first["id"], "resolve", {**s_headers, **key()}, json={"outcome": "concede"})
    assert refund.status_code == 200 and refund.json()["status"] == "refunded"
    assert balance(api, buyer["id"]) == Decimal(10) and _escrow(api) == Decimal(10)
    _step(api, second["id"], "ship", s_headers)
    _step(api, second["id"], "dispute", b_headers, json={"dispute_reason": "other"})
    not_sellers = _step(
        api, second["id"], "resolve", {**s_headers, **key()}, json={"outcome": "withdraw"}
    )
    assert not_sellers.status_code == 403
    back = _step(api, second["id"], "resolve", {**b_headers, **key()}, json={"outcome": "withdraw"})
    assert back.json()["status"] == "shipped" and _escrow(api) == Decimal(10)
    outcomes = [
        json.loads(e.line)["payload"]["dispute_outcome"] for e in events(api, "DISPUTE_RESOLVED")
    ]
    assert outcomes == ["buyer_won", "withdrawn"]
    assert len(events(api, "DISPUTE_OPENED")) == 2 and len(events(api, "REFUND_ISSUED")) == 1
    assert_ledger_consistent(api)


def test_illegal_transitions_are_409_and_wrong_party_403(api: TestClient) -> None:
    _, s_headers = trusted(api)
    _, b_headers = trusted(api)
    listing = _listing(api, s_headers)
    order = _order(api, b_headers, listing["id"])["id"]
    assert _step(api, order, "ship", s_headers).status_code == 409  # not paid yet
    assert _step(api, order, "deliver", {**b_headers, **key()}).status_code == 409
    review = api.post(f"/marketplace/orders/{order}/reviews", json={"rating": 3}, headers=b_headers)
    assert review.status_code == 409
    short = _step(api, order, "pay", {**b_headers, **key()})  # an empty wallet
    assert short.status_code == 409 and short.json()["detail"]["reason"] == "insufficient_funds"
    failed = json.loads(events(api, "PAYMENT_FAILED")[0].line)["payload"]
    assert failed["failure_code"] == "insufficient_funds" and failed["order_id"] == order
    fund(api, b_headers, "30")
    assert _step(api, order, "pay", {**s_headers, **key()}).status_code == 403  # seller can't
    assert _step(api, order, "pay", {**b_headers, **key()}).status_code == 200
    assert _step(api, order, "pay", {**b_headers, **key()}).status_code == 409  # new key: twice
    assert _step(api, order, "ship", b_headers).status_code == 403
    assert _step(api, order, "cancel", b_headers).status_code == 409
    outcome = {"outcome": "concede"}
    assert _step(api, order, "resolve", {**s_headers, **key()}, json=outcome).status_code == 409
    got = api.get(f"/marketplace/orders/{order}", headers=b_headers).json()
    assert got["status"] == "paid"
    cancelled = _order(api, b_headers, listing["id"])["id"]
    assert _step(api, cancelled, "cancel", s_headers).json()["status"] == "cancelled"
    restocked = api.get(f"/marketplace/listings/{listing['id']}", headers=b_headers).json()
    assert restocked["quantity"] == 1


def test_strangers_cannot_see_or_change_anothers_orders(any_api: TestClient) -> None:
    _, s_headers = trusted(any_api)
    _, b_headers = trusted(any_api)
    _, x_headers = trusted(any_api)
    order = _order(any_api, b_headers, _listing(any_api, s_headers)["id"])["id"]
    assert any_api.get(f"/marketplace/orders/{order}", headers=s_headers).status_code == 200
    assert any_api.get(f"/marketplace/orders/{order}", headers=x_headers).status_code == 404
    for step, kw in (
        ("pay", {}),
        ("ship", {}),
        ("cancel", {}),
        ("deliver", {}),
        ("dispute", {"json": {"dispute_reason": "other"}}),
        ("resolve", {"json": {"outcome": "concede"}}),
    ):
        probe = _step(any_api, order, step, {**x_headers, **key()}, **kw)
        assert probe.status_code == 404, step
    probe = any_api.post(
        f"/marketplace/orders/{order}/reviews", json={"rating": 1}, headers=x_headers
    )
    assert probe.status_code == 404
    assert any_api.get("/marketplace/orders", headers=x_headers).json() == []
    assert [
        o["id"] for o in any_api.get("/marketplace/orders?role=seller", headers=s_headers).json()
    ] == [order]
    assert any_api.get(f"/marketplace/orders/{order}", headers=b_headers).json()["status"] == (
        "pending"
    )


def test_listing_creation_and_orders_ask_the_decision_function(api: TestClient) -> None:
    _, s_headers = trusted(api)
    listing = _listing(api, s_headers)
    new, headers = signed_in(api)
    denied = api.post("/marketplace/listings", json=LISTING, headers=headers)
    assert denied.status_code == 403 and denied.json()["detail"]["reason"] == "new_account"
    order = api.post("/marketplace/orders", json={"listing_id": listing["id"]}, headers=headers)
    assert order.status_code == 403
    age(api, new["id"])
    challenged = api.post("/marketplace/listings", json=LISTING, headers=headers)
    assert challenged.status_code == 401
    assert "insufficient_user_authentication" in challenged.headers["WWW-Authenticate"]
    assert len(events(api, "LISTING_CREATED")) == 1 and events(api, "ORDER_PLACED") == []


def test_listing_and_order_input_is_validated_with_4xx(api: TestClient) -> None:
    _, s_headers = trusted(api)
    for bad in (
        {"category": "weapons"},
        {"lat": 91},
        {"lon": -181},
        {"price": 25.5},
        {"price": "0"},
        {"price": "1.23456"},
        {"quantity": 0},
        {"currency": "euro"},
        {"ships_from": "DEU"},
        {"status": "sold_out"},
        {"title": ""},
    ):
        response = api.post("/marketplace/listings", json={**LISTING, **bad}, headers=s_headers)
        assert response.status_code == 422, bad
    listing = _listing(api, s_headers)
    own = api.post("/marketplace/orders", json={"listing_id": listing["id"]}, headers=s_headers)
    assert own.status_code == 422 and own.json()["detail"]["reason"] == "own_listing"
    _, b_headers = trusted(api)
    too_many = {"listing_id": listing["id"], "quantity": 3}
    assert api.post("/marketplace/orders", json=too_many, headers=b_headers).status_code == 409
    missing = {"listing_id": "00000000-0000-4000-8000-000000000009"}
    assert api.post("/marketplace/orders", json=missing, headers=b_headers).status_code == 404
    assert api.get("/marketplace/orders/not-a-uuid", headers=b_headers).status_code == 422
    assert (
        api.get("/marketplace/listings?category=sports", headers=b_headers).json()[0]["id"]
        == (listing["id"])
    )

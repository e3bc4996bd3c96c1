from __future__ import annotations

import json
import uuid
from decimal import Decimal

from fastapi.testclient import TestClient
from sqlalchemy import func, select

from core_api.db.notify import Notification
from core_api.db.subscriptions import Subscription
from tests.core_api.routers.helpers import events, signed_in
from tests.core_api.routers.money_helpers import assert_ledger_consistent, balance, key, trusted
from tests.core_api.routers.subscription_helpers import (
    invoices,
    payloads,
    plan,
    subscribe,
    subscriber,
)


def test_subscribing_charges_the_first_period_once_per_key(any_api: TestClient) -> None:
    seller, s_headers = trusted(any_api)
    offer = plan(any_api, s_headers, price="9.99")
    assert (offer["price"], offer["interval"], offer["seller_id"]) == (
        "9.9900",
        "month",
        seller["id"],
    )
    buyer, b_headers = subscriber(any_api, "30")
    same = {**b_headers, **key()}
    first = any_api.post("/subscriptions", json={"plan_id": offer["id"]}, headers=same)
    assert first.status_code == 201, first.text
    again = any_api.post("/subscriptions", json={"plan_id": offer["id"]}, headers=same)
    assert again.status_code == 201 and again.headers["Idempotent-Replayed"] == "true"
    assert again.json() == first.json()
    sub = first.json()
    assert (sub["status"], sub["period"], sub["cancel_at_period_end"]) == ("active", 0, False)
    assert balance(any_api, buyer["id"]) == Decimal("20.0100")
    assert balance(any_api, seller["id"]) == Decimal("9.9900")
    assert_ledger_consistent(any_api)
    assert invoices(any_api, sub["id"]) == [(0, "paid", 1, None)]
    listed = any_api.get("/subscriptions", headers=b_headers).json()
    assert [s["id"] for s in listed] == [sub["id"]]
    [started] = events(any_api, "SUBSCRIPTION_STARTED")
    envelope = json.loads(started.line)
    assert (envelope["actor_id"], envelope["subject_id"]) == (buyer["id"], sub["id"])
    assert envelope["payload"] == {
        "plan_id": offer["id"],
        "amount": "9.9900",
        "currency": "EUR",
        "seller_id": seller["id"],
        "billing_interval": "month",
    }
    with any_api.app.state.services.sessions() as s:
        told = s.scalar(
            select(func.count()).where(
                Notification.user_id == buyer["id"], Notification.kind == "subscription"
            )
        )
    assert told == 1
    twice = any_api.post(
        "/subscriptions", json={"plan_id": offer["id"]}, headers={**b_headers, **key()}
    )
    assert twice.status_code == 409 and twice.json()["detail"]["reason"] == "already_subscribed"
    statement = any_api.get("/payments/wallets", headers=b_headers).json()[0]["id"]
    lines = any_api.get(f"/payments/wallets/{statement}/entries", headers=b_headers).json()
    assert (lines[0]["kind"], lines[0]["amount"]) == ("subscription", "-9.9900")


def test_subscribing_without_funds_is_402_and_leaves_the_failure_event(any_api: TestClient) -> None:
    _, s_headers = trusted(any_api)
    offer = plan(any_api, s_headers, price="5")
    buyer, b_headers = subscriber(any_api, funds="4.99")
    refused = any_api.post(
        "/subscriptions", json={"plan_id": offer["id"]}, headers={**b_headers, **key()}
    )
    assert refused.status_code == 402 and refused.json()["detail"]["reason"] == "insufficient_funds"
    assert payloads(any_api, "SUBSCRIPTION_PAYMENT_FAILED") == [
        {
            "plan_id": offer["id"],
            "amount": "5.0000",
            "currency": "EUR",
            "seller_id": offer["seller_id"],
            "billing_period": 0,
            "billing_attempt": 1,
            "charge_failure": "insufficient_funds",
        }
    ]
    assert balance(any_api, buyer["id"]) == Decimal("4.9900")
    with any_api.app.state.services.sessions() as s:
        assert s.scalar(select(func.count()).select_from(Subscription)) == 0
    assert any_api.get("/subscriptions", headers=b_headers).json() == []


def test_other_users_subscriptions_and_plans_answer_404(any_api: TestClient) -> None:
    _, s_headers = trusted(any_api)
    offer = plan(any_api, s_headers)
    _, b_headers = subscriber(any_api)
    sub = subscribe(any_api, b_headers, offer["id"])
    _, o_headers = signed_in(any_api)
    for path in (f"/subscriptions/{sub['id']}", f"/subscriptions/{sub['id']}/invoices"):
        assert any_api.get(path, headers=o_headers).status_code == 404, path
        assert any_api.get(path, headers=b_headers).status_code == 200, path
    cancel = any_api.post(f"/subscriptions/{sub['id']}/cancel", json={}, headers=o_headers)
    assert cancel.status_code == 404
    assert (
        any_api.delete(f"/subscriptions/plans/{offer['id']}", headers=b_headers).status_code == 404
    )
    missing = str(uuid.uuid4())
    assert any_api.get(f"/subscriptions/{missing}", headers=b_headers).status_code == 404
    assert any_api.get(f"/subscriptions/plans/{missing}", headers=b_headers).status_code == 404
    assert any_api.get(f"/subscriptions/{sub['id']}").status_code == 401
    assert (
        any_api.get(f"/subscriptions/{sub['id']}", headers=b_headers).json()["status"] == "active"
    )


def test_bad_subscription_input_is_4xx_never_500(api: TestClient) -> None:
    _, s_headers = trusted(api)
    offer = plan(api, s_headers)
    good = {"name": "Pro", "price": "9.99", "currency": "EUR", "interval": "month"}
    for bad in (
        {**good, "price": 9.99},
        {**good, "price": "0"},
        {**good, "price": "-1"},
        {**good, "interval": "daily"},
        {**good, "currency": "XYZ"},
        {**good, "name": ""},
        {**good, "name": "x" * 81},
        {**good, "extra": 1},
    ):
        assert api.post("/subscriptions/plans", json=bad, headers=s_headers).status_code == 422, bad
    own = api.post("/subscriptions", json={"plan_id": offer["id"]}, headers={**s_headers, **key()})
    assert own.status_code == 422 and own.json()["detail"]["reason"] == "own_plan"
    _, b_headers = subscriber(api)
    for body in ({"plan_id": "nope"}, {}, {"plan_id": offer["id"], "x": 1}):
        answer = api.post("/subscriptions", json=body, headers={**b_headers, **key()})
        assert answer.status_code == 422, body
    unknown = api.post(
        "/subscriptions", json={"plan_id": str(uuid.uuid4())}, headers={**b_headers, **key()}
    )
    assert unknown.status_code == 404
    no_key = api.post("/subscriptions", json={"plan_id": offer["id"]}, headers=b_headers)
    assert no_key.status_code == 422
    assert api.get("/subscriptions/not-a-uuid", headers=b_headers).status_code == 422
    assert api.get("/subscriptions/plans?limit=0", headers=b_headers).status_code == 422
    sub = subscribe(api, b_headers, offer["id"])
    odd = api.post(
        f"/subscriptions/{sub['id']}/cancel", json={"at_period_end": "x"}, headers=b_headers
    )
    assert odd.status_code == 422


def test_cancel_at_period_end_then_now_and_withdrawn_plans(any_api: TestClient) -> None:
    _, s_headers = trusted(any_api)
    offer = plan(any_api, s_headers, interval="week")
    _, b_headers = subscriber(any_api)
    sub = subscribe(any_api, b_headers, offer["id"])
    url = f"/subscriptions/{sub['id']}/cancel"
    later = any_api.post(url, headers=b_headers)
    assert later.status_code == 200, later.text
    assert (later.json()["status"], later.json()["cancel_at_period_end"]) == ("active", True)
    assert any_api.post(url, json={"at_period_end": True}, headers=b_headers).status_code == 409
    now = any_api.post(url, json={"at_period_end": False}, headers=b_headers)
    assert now.status_code == 200
    assert (now.json()["status"], now.json()["cancel_reason"]) == ("cancelled", "user")
    assert now.json()["next_attempt_at"] is None
    assert any_api.post(url, json={"at_period_end": False}, headers=b_headers).status_code == 409
    said = payloads(any_api, "SUBSCRIPTION_CANCELLED")
    assert [(p["cancel_reason"], p["at_period_end"]) for p in said] == [
        ("user", True),
        ("user", False),
    ]
    again = subscribe(any_api, b_headers, offer["id"])  # a cancelled one no longer blocks
    assert again["id"] != sub["id"]
    listed = any_api.get(f"/subscriptions/plans?seller_id={offer['seller_id']}", headers=b_headers)
    assert [p["id"] for p in listed.json()] == [offer["id"]]
    assert (
        any_api.delete(f"/subscriptions/plans/{offer['id']}", headers=s_headers).status_code == 204
    )
    assert any_api.get("/subscriptions/plans", headers=b_headers).json() == []
    late = any_api.post(
        "/subscriptions", json={"plan_id": offer["id"]}, headers={**b_headers, **key()}
    )
    assert late.status_code == 404

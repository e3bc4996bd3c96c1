from __future__ import annotations

import json
from decimal import Decimal

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


def _payload(row: object) -> dict:
    return json.loads(row.line)["payload"]  # type: ignore[attr-defined]


def test_deposit_transfer_payout_move_exact_money_with_events(any_api: TestClient) -> None:
    alice, a_headers = trusted(any_api)
    bob, b_headers = trusted(any_api)
    fund(any_api, a_headers, "100.10")
    sent = any_api.post(
        "/payments/transfers",
        json={"to_user_id": bob["id"], "amount": "30.0001", "currency": "EUR"},
        headers={**a_headers, **key()},
    )
    assert sent.status_code == 201, sent.text
    assert sent.json()["amount"] == "30.0001" and sent.json()["kind"] == "transfer"
    paid_out = any_api.post(
        "/payments/payouts",
        json={"amount": "10", "currency": "EUR", "destination_id": "ba_bob_1"},
        headers={**b_headers, **key()},
    )
    assert paid_out.status_code == 201, paid_out.text
    assert balance(any_api, alice["id"]) == Decimal("70.0999")
    assert balance(any_api, bob["id"]) == Decimal("20.0001")
    assert_ledger_consistent(any_api)
    top_up = _payload(events(any_api, "PAYMENT_SUCCESS")[0])
    assert top_up == {
        "amount": "100.1000",
        "currency": "EUR",
        "purpose": "top_up",
        "payment_method_id": "pm_card_visa",
    }
    transfer = json.loads(events(any_api, "TRANSFER_SENT")[0].line)
    assert (transfer["actor_id"], transfer["subject_id"]) == (alice["id"], bob["id"])
    assert transfer["payload"]["transfer_id"] == sent.json()["id"]
    assert [e.event_type for e in events(any_api) if e.event_type.startswith("PAYOUT")] == [
        "PAYOUT_REQUESTED",
        "PAYOUT_COMPLETED",
    ]
    wallets = any_api.get("/payments/wallets", headers=b_headers).json()
    assert [(w["currency"], w["balance"]) for w in wallets] == [("EUR", "20.0001")]
    lines = any_api.get(f"/payments/wallets/{wallets[0]['id']}/entries", headers=b_headers)
    assert [(e["kind"], e["amount"]) for e in lines.json()] == [
        ("payout", "-10.0000"),
        ("transfer", "30.0001"),
    ]


def test_bad_amounts_and_bodies_are_422_never_500(api: TestClient) -> None:
    _, headers = trusted(api)
    fund(api, headers, "5")
    url = "/payments/deposits"
    good = {"amount": "1.00", "currency": "EUR", "payment_method_id": "pm_card_visa"}
    for amount in (1.5, "1.00001", "0", "0.0000", "-1", "1e3", "abc", "", None, "123456789012345"):
        response = api.post(url, json={**good, "amount": amount}, headers={**headers, **key()})
        assert response.status_code == 422, amount
    for bad in ({**good, "currency": "eur"}, {**good, "wallet_id": "x"}, {"amount": "1"}):
        assert api.post(url, json=bad, headers={**headers, **key()}).status_code == 422, bad
    assert api.post(url, json=good, headers=headers).status_code == 422  # no Idempotency-Key
    short = {"Idempotency-Key": "abc"}
    assert api.post(url, json=good, headers={**headers, **short}).status_code == 422
    assert balance(api, api.get("/identity/me", headers=headers).json()["id"]) == Decimal(5)


def test_retried_idempotency_key_moves_money_once(any_api: TestClient) -> None:
    alice, a_headers = trusted(any_api)
    bob, _ = trusted(any_api)
    fund(any_api, a_headers, "50")
    once = {**a_headers, **key()}
    body = {"to_user_id": bob["id"], "amount": "20", "currency": "EUR"}
    first = any_api.post("/payments/transfers", json=body, headers=once)
    again = any_api.post("/payments/transfers", json=body, headers=once)
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json() and again.headers["Idempotent-Replayed"] == "true"
    assert balance(any_api, alice["id"]) == Decimal(30) and balance(any_api, bob["id"]) == 20
    assert len(events(any_api, "TRANSFER_SENT")) == 1
    other = any_api.post("/payments/transfers", json={**body, "amount": "21"}, headers=once)
    assert other.status_code == 422 and other.json()["detail"]["reason"] == "idempotency_key_reused"
    elsewhere = any_api.post(
        "/payments/payouts",
        json={"amount": "20", "currency": "EUR", "destination_id": "ba_1"},
        headers=once,
    )
    assert elsewhere.status_code == 422  # a key belongs to one request, on one route
    assert balance(any_api, alice["id"]) == Decimal(30)


def test_no_negative_balance_and_no_cross_currency(api: TestClient) -> None:
    alice, a_headers = trusted(api)
    bob, _ = trusted(api)
    fund(api, a_headers, "10")
    body = {"to_user_id": bob["id"], "amount": "10.0001", "currency": "EUR"}
    short = api.post("/payments/transfers", json=body, headers={**a_headers, **key()})
    assert short.status_code == 409 and short.json()["detail"]["reason"] == "insufficient_funds"
    usd = api.post(
        "/payments/transfers",
        json={**body, "amount": "1", "currency": "USD"},
        headers={**a_headers, **key()},
    )
    assert usd.status_code == 409  # no USD wallet with money in it
    out = api.post(
        "/payments/payouts",
        json={"amount": "11", "currency": "EUR", "destination_id": "ba_1"},
        headers={**a_headers, **key()},
    )
    assert out.status_code == 409
    assert balance(api, alice["id"]) == Decimal(10) and balance(api, bob["id"]) == 0
    assert_ledger_consistent(api)
    me = api.post(
        "/payments/transfers",
        json={**body, "to_user_id": alice["id"], "amount": "1"},
        headers={**a_headers, **key()},
    )
    assert me.status_code == 422
    nobody = "00000000-0000-4000-8000-000000000001"
    lost = api.post(
        "/payments/transfers",
        json={**body, "to_user_id": nobody, "amount": "1"},
        headers={**a_headers, **key()},
    )
    assert lost.status_code == 404


def test_user_cannot_read_or_move_anothers_wallet(any_api: TestClient) -> None:
    alice, a_headers = trusted(any_api)
    _, b_headers = trusted(any_api)
    fund(any_api, a_headers, "40")
    wallet_id = any_api.get("/payments/wallets", headers=a_headers).json()[0]["id"]
    txn = any_api.get(f"/payments/wallets/{wallet_id}/entries", headers=a_headers).json()[0]
    for url in (
        f"/payments/wallets/{wallet_id}",
        f"/payments/wallets/{wallet_id}/entries",
        f"/payments/transactions/{txn['transaction_id']}",
    ):
        assert any_api.get(url, headers=a_headers).status_code == 200
        assert any_api.get(url, headers=b_headers).status_code == 404, url
        assert any_api.get(url).status_code == 401
    assert any_api.get("/payments/wallets", headers=b_headers).json() == []
    # Money only ever leaves the caller's own wallet: there is no field to name another one.
    steal = {
        "to_user_id": alice["id"],
        "amount": "1",
        "currency": "EUR",
        "from_wallet_id": wallet_id,
    }
    assert (
        any_api.post("/payments/transfers", json=steal, headers={**b_headers, **key()}).status_code
        == 422
    )
    assert balance(any_api, alice["id"]) == Decimal(40)


def test_critical_money_actions_ask_the_decision_function(api: TestClient) -> None:
    receiver, _ = trusted(api)
    body = {"to_user_id": receiver["id"], "amount": "1", "currency": "EUR"}
    new, new_headers = signed_in(api)  # minutes old: critical actions are denied
    fund(api, new_headers, "5")
    denied = api.post("/payments/transfers", json=body, headers={**new_headers, **key()})
    assert denied.status_code == 403 and denied.json()["detail"]["reason"] == "new_account"
    age(api, new["id"])  # old enough, but unverified and without a second factor
    challenged = api.post("/payments/transfers", json=body, headers={**new_headers, **key()})
    assert challenged.status_code == 401
    challenge = challenged.headers["WWW-Authenticate"]
    assert (
        'error="insufficient_user_authentication"' in challenge and 'acr_values="mfa"' in challenge
    )
    assert "unscored_unverified" in challenged.json()["detail"]["reasons"]
    payout = api.post(
        "/payments/payouts",
        json={"amount": "1", "currency": "EUR", "destination_id": "ba_1"},
        headers={**new_headers, **key()},
    )
    assert payout.status_code == 401 and "mfa_required" in payout.json()["detail"]["reasons"]
    assert balance(api, new["id"]) == Decimal(5)
    assert events(api, "TRANSFER_SENT") == [] and events(api, "PAYOUT_REQUESTED") == []


def test_declined_card_records_a_failed_payment(api: TestClient) -> None:
    me, headers = signed_in(api)
    body = {"amount": "9.99", "currency": "EUR", "payment_method_id": "pm_card_declined"}
    declined = api.post("/payments/deposits", json=body, headers={**headers, **key()})
    assert declined.status_code == 402
    failed = events(api, "PAYMENT_FAILED")
    assert len(failed) == 1 and _payload(failed[0])["failure_code"] == "card_declined"
    assert balance(api, me["id"]) == 0 and events(api, "PAYMENT_SUCCESS") == []

"""Money limits, on each database: no amount, repetition or wallet can overflow a column.

Before: ten deposits of 99999999999999.9999 made SQLite's integer column overflow (a 500), and
one deposit of 99999999999649 filled PostgreSQL's shared ``external:USD`` wallet to its
NUMERIC(18, 4) ceiling, after which every other user's deposit answered 500.
"""

from __future__ import annotations

from decimal import Decimal

from fastapi.testclient import TestClient
from sqlalchemy import update

from core_api.db.money import Wallet
from core_api.services.payments import COLUMN_CEILING, MAX_MOVEMENT, MAX_USER_BALANCE
from tests.core_api.routers.money_helpers import (
    assert_ledger_consistent,
    balance,
    fund,
    key,
    trusted,
)


def _deposit(api: TestClient, headers: dict[str, str], amount: str, currency: str = "USD") -> int:
    body = {"amount": amount, "currency": currency, "payment_method_id": "pm_card_visa"}
    return api.post("/payments/deposits", json=body, headers={**headers, **key()}).status_code


def test_amounts_past_one_movement_are_refused(any_api: TestClient) -> None:
    _, headers = trusted(any_api)
    answers = [_deposit(any_api, headers, "99999999999999.9999") for _ in range(10)]
    assert answers == [422] * 10
    assert _deposit(any_api, headers, str(MAX_MOVEMENT + Decimal("0.0001"))) == 422
    assert _deposit(any_api, headers, str(MAX_MOVEMENT)) == 201
    assert_ledger_consistent(any_api)


def test_a_wallet_stops_at_its_limit_and_others_go_on(any_api: TestClient) -> None:
    rich, rich_headers = trusted(any_api)
    _, other_headers = trusted(any_api)
    steps = int(MAX_USER_BALANCE / MAX_MOVEMENT)
    for _ in range(steps):
        assert _deposit(any_api, rich_headers, str(MAX_MOVEMENT)) == 201
    refused = any_api.post(
        "/payments/deposits",
        json={"amount": "0.0001", "currency": "USD", "payment_method_id": "pm_card_visa"},
        headers={**rich_headers, **key()},
    )
    assert refused.status_code == 409 and refused.json()["detail"]["reason"] == "balance_limit"
    assert balance(any_api, rich["id"], "USD") == MAX_USER_BALANCE
    assert _deposit(any_api, other_headers, "10.00") == 201  # everyone else still deposits
    assert_ledger_consistent(any_api)


def test_a_full_system_wallet_is_a_clean_409_not_an_overflow(any_api: TestClient) -> None:
    _, headers = trusted(any_api)
    fund(any_api, headers, "1", currency="USD")
    # The outside world's wallet as deep as the column allows (as after years of deposits).
    with any_api.app.state.services.sessions() as s:
        s.execute(
            update(Wallet).where(Wallet.key == "external:USD").values(balance=-COLUMN_CEILING)
        )
        s.commit()
    refused = any_api.post(
        "/payments/deposits",
        json={"amount": "10.00", "currency": "USD", "payment_method_id": "pm_card_visa"},
        headers={**headers, **key()},
    )
    assert refused.status_code == 409
    assert refused.json()["detail"]["reason"] == "system_wallet_full"


def test_only_supported_currencies_are_accepted(any_api: TestClient) -> None:
    _, headers = trusted(any_api)
    for currency in ("XYZ", "ABC", "QQQ"):
        answer = any_api.post(
            "/payments/deposits",
            json={"amount": "1", "currency": currency, "payment_method_id": "pm_card_visa"},
            headers={**headers, **key()},
        )
        assert answer.status_code == 422, currency
        assert answer.json()["detail"][0]["type"] == "currency_unsupported"
    assert _deposit(any_api, headers, "1", currency="JPY") == 201


def test_an_order_past_one_movement_is_refused(any_api: TestClient) -> None:
    _, seller = trusted(any_api)
    _, buyer = trusted(any_api)
    listing = dict(title="Yacht", category="home", item_condition="used", currency="EUR")
    listing |= {"price": str(MAX_MOVEMENT), "quantity": 3, "lat": 1.0, "lon": 2.0}
    made = any_api.post("/marketplace/listings", json=listing, headers=seller)
    assert made.status_code == 201, made.text
    order = {"listing_id": made.json()["id"], "quantity": 2}
    answer = any_api.post("/marketplace/orders", json=order, headers=buyer)
    assert answer.status_code == 422 and answer.json()["detail"]["reason"] == "amount_too_large"

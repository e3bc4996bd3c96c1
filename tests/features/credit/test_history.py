"""Payment history as of a time: completed orders by role, disputes lost, chargebacks, age."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import polars as pl

from features.credit import payment_history
from features.lake import FLAT_SCHEMA

T = datetime(2026, 12, 1, tzinfo=UTC)
SELLER, BUYER, OTHER = "s" * 8, "b" * 8, "o" * 8


def _events(rows: list[dict[str, object]]) -> pl.DataFrame:
    full = [
        {name: row.get(name) for name in FLAT_SCHEMA} | {"event_id": str(i)}
        for i, row in enumerate(rows)
    ]
    return pl.DataFrame(full, schema=FLAT_SCHEMA)


def _order(order: str, *, at: datetime, amount: str, last: str = "delivered") -> list[dict]:
    placed = {
        "event_type": "ORDER_PLACED",
        "at": at,
        "actor_id": BUYER,
        "subject_id": order,
        "amount": Decimal(amount),
        "currency": "EUR",
        "seller_id": SELLER,
    }
    statuses = ["paid", "shipped", "delivered"] + ([last] if last != "delivered" else [])
    return [placed] + [
        {
            "event_type": "ORDER_STATUS_CHANGED",
            "at": at + timedelta(hours=k + 1),
            "actor_id": SELLER,
            "subject_id": order,
            "order_status": status,
            "seller_id": SELLER,
        }
        for k, status in enumerate(statuses)
    ]


def test_history_counts_completed_orders_by_role_before_the_time_only() -> None:
    rows = [
        {"event_type": "USER_REGISTERED", "at": T - timedelta(days=30), "subject_id": SELLER},
        *_order("o1", at=T - timedelta(days=10), amount="100"),
        *_order("o2", at=T - timedelta(days=5), amount="50.5"),
        *_order("o3", at=T - timedelta(days=4), amount="70", last="refunded"),  # not completed
        *_order("o4", at=T - timedelta(hours=2), amount="999"),  # delivered after T
        {
            "event_type": "DISPUTE_RESOLVED",
            "at": T - timedelta(days=1),
            "subject_id": "o3",
            "dispute_outcome": "buyer_won",
            "seller_id": SELLER,
        },
        {
            "event_type": "CHARGEBACK_RECEIVED",
            "at": T - timedelta(days=2),
            "actor_id": OTHER,
            "seller_id": SELLER,
        },
        {
            "event_type": "CHARGEBACK_RECEIVED",
            "at": T + timedelta(days=1),  # after the scoring time: not seen
            "actor_id": BUYER,
        },
        {
            "event_type": "ACCOUNT_STATUS_CHANGED",
            "at": T - timedelta(days=3),
            "subject_id": OTHER,
            "account_status": "banned",
        },
    ]
    got = {r["user_id"]: r for r in payment_history(_events(rows), at=T).iter_rows(named=True)}
    seller, buyer, other = got[SELLER], got[BUYER], got[OTHER]
    assert (seller["sales_n"], seller["sales_amount"], seller["purchases_n"]) == (2, 150.5, 0)
    assert (buyer["purchases_n"], buyer["purchases_amount"], buyer["sales_n"]) == (2, 150.5, 0)
    assert seller["credit_currency"] == buyer["credit_currency"] == "EUR"
    assert (seller["disputes_lost"], seller["chargebacks"]) == (1, 1)
    assert (buyer["chargebacks"], other["chargebacks"]) == (0, 1)
    assert seller["account_age_days"] == 30.0 and buyer["account_age_days"] is None
    assert (other["account_status"], seller["account_status"]) == ("banned", "active")
    assert seller["typical_order"] == 75.25  # median of the completed EUR orders


def test_history_is_the_same_whatever_comes_after_the_time() -> None:
    before = [*_order("o1", at=T - timedelta(days=3), amount="20")]
    after = [*before, *_order("o2", at=T + timedelta(hours=1), amount="30")]
    assert payment_history(_events(before), at=T).equals(payment_history(_events(after), at=T))

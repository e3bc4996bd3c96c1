"""The credit rule: hard zeros, monotone in every input, capped, explained in words."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime
from decimal import Decimal

import polars as pl

from features.credit import HISTORY, credit_limits, limit_problems

T = datetime(2026, 12, 1, tzinfo=UTC)
GOOD = {
    "account_age_days": 200.0,
    "account_status": "active",
    "credit_currency": "EUR",
    "sales_n": 10,
    "sales_amount": 1000.0,
    "purchases_n": 0,
    "purchases_amount": 0.0,
    "disputes_lost": 0,
    "chargebacks": 0,
    "typical_order": 100.0,
}
SCORE = {"trust": 0.8, "fraud_risk": 0.0, "band": "low", "confirmed_fraud": False}


def _limits(*people: tuple[dict, dict]) -> pl.DataFrame:
    ids = [f"u{i}" for i in range(len(people))]
    history = pl.DataFrame(
        [{"user_id": u, **GOOD, **h} for u, (h, _) in zip(ids, people, strict=True)],
        schema=HISTORY,
    )
    scores = pl.DataFrame(
        [{"user_id": u, **SCORE, **s} for u, (_, s) in zip(ids, people, strict=True)]
    )
    out = credit_limits(history, scores, at=T)
    assert limit_problems(out, scores) == []
    return out


def test_a_good_seller_gets_half_their_sales_and_one_reason() -> None:
    (row,) = _limits(({}, {})).iter_rows(named=True)
    assert row["credit_limit"] == Decimal("500.00") and row["credit_currency"] == "EUR"
    assert row["credit_reasons"] == ["lent against 10 completed sales worth 1000 EUR in 180 days"]


def test_hard_rules_lend_nothing_and_say_why() -> None:
    out = _limits(
        ({"account_status": "banned"}, {}),
        ({}, {"confirmed_fraud": True}),
        ({}, {"fraud_risk": 0.62, "band": "high"}),
        ({"sales_n": 0, "sales_amount": 0.0, "credit_currency": None}, {}),
    )
    assert out["credit_limit"].to_list() == [Decimal("0.00")] * 4
    assert [r[0] for r in out["credit_reasons"].to_list()] == [
        "no limit: account banned",
        "no limit: fraud confirmed by an analyst",
        "no limit: fraud risk 62% (high band)",
        "no limit: no completed sales or purchases in 180 days",
    ]


def test_signs_against_the_user_lower_the_limit_and_are_said_strongest_first() -> None:
    (row,) = _limits(({"chargebacks": 2, "account_age_days": 45.0}, {})).iter_rows(named=True)
    assert row["credit_limit"] == Decimal("93.00")  # 500 x 0.25 x 0.75, rounded down
    assert row["credit_reasons"] == [
        "limit lowered: 2 chargebacks in 90 days",
        "limit lowered: account is 45 days old",
        "lent against 10 completed sales worth 1000 EUR in 180 days",
    ]


def test_the_cap_binds_in_typical_orders() -> None:
    (row,) = _limits(({"sales_amount": 100_000.0}, {})).iter_rows(named=True)
    assert row["credit_limit"] == Decimal("2000.00")  # 20 orders of 100
    assert row["credit_reasons"][0] == "limit capped at 20 typical orders"


def test_the_limit_is_monotone_in_every_input() -> None:
    worse = {
        "chargebacks": [0, 1, 3],
        "disputes_lost": [0, 1, 2],
    }
    better = {
        "sales_amount": [0.0, 300.0, 3000.0],
        "purchases_amount": [0.0, 500.0],
        "trust": [0.05, 0.3, 0.9],
        "account_age_days": [1.0, 30.0, 90.0],
    }
    score_keys = {"trust"}
    for name, values in itertools.chain(worse.items(), better.items()):
        people = [
            ({} if name in score_keys else {name: v}, {name: v} if name in score_keys else {})
            for v in values
        ]
        got = [float(x) for x in _limits(*people)["credit_limit"]]
        ordered = sorted(got, reverse=name in worse)
        assert got == ordered, (name, got)
    bands = [
        {"fraud_risk": r, "band": b} for r, b in ((0.05, "low"), (0.3, "medium"), (0.6, "high"))
    ]
    got = [float(x) for x in _limits(*(({}, band) for band in bands))["credit_limit"]]
    assert got == [500.0, 250.0, 0.0]

"""The rules-and-graph fallback: what serves before any model has cleared its floors."""

from __future__ import annotations

from datetime import UTC, datetime

import polars as pl

from models.risk.scoring import fallback_scores, queue_problems


def test_fallback_risk_rises_with_ring_and_rules_and_says_only_the_rules_hit() -> None:
    rows = pl.DataFrame(
        {
            "user_id": ["calm", "ring"],
            "trust_trust": [0.5, 0.1],
            "trust_graph_risk": [0.0, 0.95],
            "users_per_device_ever": [1, 7],
            "chargebacks_n_30d": [0, 0],
            "fan_in_senders_7d": [0, 0],
            "failed_payments_n_30d": [0, 4],
            "failed_payment_ratio_30d": [None, 0.25],  # 4 of 16 failed: not card testing
        }
    )
    out = fallback_scores(rows, model_version="vouch-fraud/fallback", scored_at=datetime.now(UTC))
    calm, ring = out.rows(named=True)
    assert calm["fraud_risk"] == 0.0 and calm["reasons"] == []
    assert ring["fraud_risk"] > 0.9 and ring["band"] == "high"
    assert ring["reasons"] == [
        "member of a dense shared-device ring",
        "device shared by 5+ accounts",
    ]


def test_queue_problems_names_what_is_wrong_with_a_queue() -> None:
    scores = pl.DataFrame(
        {
            "user_id": ["a", "b", "c", "d"],
            "fraud_risk": [0.9, 0.5, 0.2, 0.1],
            "confirmed_fraud": [False, False, False, True],
        }
    )
    good = scores.head(2)
    assert queue_problems(good, scores, capacity=2) == []
    assert queue_problems(good, scores, capacity=5) == ["fewer cases than 5 undecided users"]
    wrong = pl.DataFrame({"user_id": ["b", "b", "x"], "fraud_risk": [0.5, 0.5, 0.9]})
    assert queue_problems(wrong, scores, capacity=3) == [
        "a user queued twice",
        "an unscored user queued",
        "not riskiest first",
    ]

"""The one publishable-scores rule (``serving.publish.check_scores``) and what models hand it."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import polars as pl

from models.risk.scoring import BANDS
from serving.credit import with_credit
from serving.publish import BAND_NAMES, USER_SCORES, check_scores, publish, published_mismatches
from serving.store.sqlite import SQLiteStore


def _scores(**changes: list) -> pl.DataFrame:
    columns = {
        "user_id": ["a", "b"],
        "trust": [0.5, 0.9],
        "fraud_risk": [0.01, 0.7],
        "band": ["low", "high"],
        "reasons": [[], ["chargeback"]],
        "model_version": ["vouch-fraud/3", "vouch-fraud/3"],
        "scored_at": [datetime(2026, 9, 1, tzinfo=UTC)] * 2,
    }
    return pl.DataFrame(columns | changes, schema=USER_SCORES)


def test_publish_check_passes_a_good_set() -> None:
    assert check_scores(_scores()) == []


def test_publish_check_names_each_problem() -> None:
    assert check_scores(_scores(user_id=["a", "a"])) == ["duplicate users"]
    assert check_scores(_scores(fraud_risk=[0.1, 1.5])) == ["fraud_risk outside [0, 1]"]
    assert check_scores(_scores(band=["low", "severe"])) == ["unknown band"]
    assert check_scores(_scores(trust=[None, 0.2])) == ["nulls: {'trust': 1}"]
    assert check_scores(_scores().drop("reasons")) == ["missing column reasons"]
    assert check_scores(_scores().cast({"fraud_risk": pl.Float32})) == [
        "fraud_risk is Float32, not Float64"
    ]


def test_publish_check_bands_are_the_models_bands() -> None:
    assert set(BAND_NAMES) == {"low", *BANDS}


def test_published_mismatches_reads_the_records_back(tmp_path: Path) -> None:
    store = SQLiteStore(tmp_path / "online.sqlite")
    try:
        assert published_mismatches(store, _scores(), snapshot="2026-09-01") == [
            "nothing is published"
        ]
        publish(store, _scores(), snapshot="2026-09-01")
        assert published_mismatches(store, _scores(), snapshot="2026-09-01") == []
        # What was scored since differs from what is served: named per field and per user.
        rescored = _scores(band=["low", "medium"], model_version=["vouch-fraud/4"] * 2)
        found = published_mismatches(store, rescored, snapshot="2026-09-01")
        assert found[0] == "model_version: published 'vouch-fraud/3', scored 'vouch-fraud/4'"
        assert found[1:] == ["user b: published high/0.7000, scored medium/0.7000"]
    finally:
        store.close()


def test_published_mismatches_reads_the_credit_limits_back(tmp_path: Path) -> None:
    limits = pl.DataFrame(
        {
            "user_id": ["a", "b"],
            "credit_limit": pl.Series([Decimal("120.00"), Decimal(0)], dtype=pl.Decimal(18, 2)),
            "credit_currency": ["EUR", None],
            "credit_reasons": [["lent against 2 completed sales"], ["no limit: account banned"]],
        }
    )
    scored = with_credit(_scores(), limits)
    store = SQLiteStore(tmp_path / "online.sqlite")
    try:
        publish(store, scored, snapshot="2026-09-01")
        assert published_mismatches(store, scored, snapshot="2026-09-01") == []
        raised = scored.with_columns(
            credit_limit=pl.Series([Decimal("150.00"), Decimal(0)], dtype=pl.Decimal(18, 2))
        )
        assert published_mismatches(store, raised, snapshot="2026-09-01") == [
            "user a: credit limit 120.00, computed 150.00"
        ]
        assert published_mismatches(store, _scores(), snapshot="2026-09-01") == []  # no limits
    finally:
        store.close()

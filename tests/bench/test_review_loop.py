"""bench.review_loop end to end at a tiny scale: the JSON's shape, and that the simulated
analysts' verdicts reach the lake and the next day's training labels."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from bench.review_arm import EVERY, HORIZON, LOOKBACK, Arm
from bench.review_loop import main
from bench.review_team import pick
from features.lake import read_flat
from models.risk import training_rows
from settings import get_settings
from tests.conftest import SmallLake

PER_DAY = (
    "truth_roc_auc",
    "truth_roc_auc_without_loop",
    "truth_roc_auc_unreviewed",
    "truth_roc_auc_unreviewed_without_loop",
    "queue_precision",
    "queue_precision_without_loop",
    "train_positives",
    "train_positives_without_loop",
)


def test_the_informative_policy_mixes_the_top_and_the_unsure() -> None:
    cases = [("a", 0.99), ("b", 0.97), ("c", 0.9), ("d", 0.52), ("e", 0.2), ("f", 0.45)]
    assert pick(cases, k=3, policy="top") == ["a", "b", "c"]
    assert pick(cases, k=3, policy="informative") == ["a", "b", "d"]
    assert pick(cases[:2], k=3, policy="informative") == ["a", "b"]


@pytest.mark.slow
def test_kept_snapshots_give_the_training_rows_of_models_risk(small_lake: SmallLake) -> None:
    as_of = datetime.combine(small_lake.start, datetime.min.time(), UTC) + timedelta(days=8)
    events = read_flat(small_lake.events, until=as_of)
    ours = Arm(small_lake.events).training_rows(events, as_of=as_of)
    theirs = training_rows(
        small_lake.events, as_of=as_of, horizon=HORIZON, lookback=LOOKBACK, every=EVERY
    )
    key = ["user_id", "at"]
    # Equal but for the last bits of a few trust signals (the graph's float sums' order).
    assert_frame_equal(ours.sort(key), theirs.select(ours.columns).sort(key), rel_tol=1e-9)


@pytest.mark.slow
def test_review_loop_runs_small_and_its_verdicts_become_labels(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("VOUCH_DATA_DIR", str(tmp_path))
    get_settings.cache_clear()
    try:
        code = main(
            ["--users", "800", "--days", "10", "--eval-days", "3", "--reviews-per-day", "10"]
        )
    finally:
        get_settings.cache_clear()
    out = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert code == 0
    assert all(len(out[name]) == 3 for name in PER_DAY)
    assert isinstance(out["auc_gain"], float) and out["decided"] == 30
    # Both arms are one platform until the first verdict.
    assert out["truth_roc_auc"][0] == out["truth_roc_auc_without_loop"][0]
    # Every confirmation is a REVIEW_DECISION in the lake, and training counts it.
    assert out["review_labels"] == out["confirmed"] > 0
    assert out["train_positives"][-1] > out["train_positives_without_loop"][-1]
    run = tmp_path / "bench" / "review_loop" / "800x10-seed11-k10-top"

    def bans(arm: str) -> int:
        events = read_flat(run / arm / "lake" / "events", types=["ACCOUNT_STATUS_CHANGED"])
        return events.filter(pl.col("reason_code") == "confirmed_fraud").height

    assert bans("loop") - bans("without") == out["confirmed"]

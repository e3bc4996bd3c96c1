"""Spilled training rows give what the rows in memory give: the same rows, sample and history."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from models.risk import training_parts, training_rows
from models.risk.release import risk_history
from models.risk.spill import spill
from models.risk.train import sample_rows, train_risk
from tests.conftest import SmallLake


def test_spill_keeps_the_parts_order_across_files(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("models.risk.spill.ROWS_PER_FILE", 3)
    parts = [
        pl.DataFrame({"user_id": [f"u{i}" for i in range(k, k + 5)], "x": range(5)}) for k in (0, 5)
    ]
    rows = spill(iter(parts), directory=tmp_path)
    assert len(list(tmp_path.glob("*.parquet"))) == 4  # 3 + 2 rows a part
    assert_frame_equal(rows.collect(), pl.concat(parts))


def test_spill_of_nothing_says_so(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="no training rows"):
        spill(iter([]), directory=tmp_path)


def test_a_spilled_sample_is_the_sample_in_memory(tmp_path: Path) -> None:
    rows = pl.DataFrame(
        {
            "user_id": [f"u{i % 40}" for i in range(200)],
            "at": [datetime(2026, 8, 1, tzinfo=UTC) + timedelta(days=i // 40) for i in range(200)],
            "label": [int(i % 17 == 0) for i in range(200)],
            "rule_label": [int(i % 23 == 0) for i in range(200)],
            "x": [float(i) for i in range(200)],
        }
    )
    lazy = spill(iter([rows[:120], rows[120:]]), directory=tmp_path)
    ours, theirs = sample_rows(lazy, limit=50, seed=3), sample_rows(rows, limit=50, seed=3)
    assert (
        ours.height == 50 + rows.filter((pl.col("label") == 1) | (pl.col("rule_label") == 1)).height
    )
    assert_frame_equal(ours, theirs)


@pytest.mark.slow
def test_spilled_training_gives_the_model_and_history_of_rows_in_memory(
    small_lake: SmallLake, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("models.risk.data.ROWS_PER_PASS", 1)  # a pass per snapshot
    kwargs = {
        "as_of": datetime.combine(small_lake.start, datetime.min.time(), UTC) + timedelta(days=9),
        "horizon": timedelta(days=7),
        "every": timedelta(days=2),
    }
    in_memory = training_rows(small_lake.events, **kwargs)
    spilled = spill(training_parts(small_lake.events, **kwargs), directory=tmp_path)
    assert_frame_equal(spilled.collect(), in_memory)
    params = {"folds": 2, "n_estimators": 20}
    ours = train_risk(spilled, params=params)
    theirs = train_risk(in_memory, params=params)
    assert ours.metrics == theirs.metrics
    assert_frame_equal(risk_history(ours, spilled), risk_history(theirs, in_memory))

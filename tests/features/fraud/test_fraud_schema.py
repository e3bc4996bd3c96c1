"""The feature-schema contract itself: unique names, a dtype and a meaning for each."""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
import pytest

from bench import features as bench
from features.fraud import schema
from settings import get_settings


def test_every_feature_has_a_unique_name_a_dtype_and_a_meaning() -> None:
    every = schema.PLATFORM_FEATURES + schema.CARD_FEATURES + schema.TRAINING_COLUMNS
    names = [f.name for f in every]
    assert len(names) == len(set(names))
    for f in every:
        assert f.meaning.strip() and isinstance(pl.Series([], dtype=f.dtype).dtype, pl.DataType)
    assert schema.SCHEMA_VERSION.startswith("fraud-features/")
    assert {"TERMINAL_ID_RISK_7DAY_WINDOW", "CUSTOMER_ID_AVG_AMOUNT_30DAY_WINDOW"} <= set(names)


def test_problems_name_missing_columns_wrong_dtypes_and_unexpected_nulls() -> None:
    specs = (
        schema.Feature("a", pl.Int64, "a count"),
        schema.Feature("b", pl.Float64, "a ratio", nullable=True),
        schema.Feature("c", pl.Int8, "a flag"),
        schema.Feature("d", pl.Int64, "another count"),
    )
    frame = pl.DataFrame({"a": [1, None], "b": [None, 0.5], "c": [1.0, 0.0]})
    assert schema.problems(frame, specs) == [
        "a: 1 nulls, none allowed",
        "c: Float64, expected Int8",
        "d: missing",
    ]


def test_the_benchmark_runs_and_agrees_with_duckdb(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("VOUCH_DATA_DIR", str(tmp_path))
    get_settings.cache_clear()
    try:
        code = bench.main(
            [
                "--rows",
                "20000",
                "--users",
                "300",
                "--days",
                "40",
                "--handbook",
                str(tmp_path / "absent.parquet"),
            ]
        )
    finally:
        get_settings.cache_clear()
    figures = json.loads((tmp_path / "bench" / "features.json").read_text())
    assert code == 0 and figures["equal"] and figures["rows"] == 20_000

"""Feature tables as DuckDB views in the warehouse file: made when a table first appears, reading
every later partition, refreshed with the lake's views, and never in the way of a write."""

from __future__ import annotations

import logging
import subprocess
import sys
from datetime import date
from pathlib import Path

import duckdb
import polars as pl
import pytest

from pipelines.feature_store import VIEWS, FeatureStore
from pipelines.ingest import Lake
from pipelines.ingest.views import refresh_views


def views(warehouse: Path) -> set[str]:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return {r[0] for r in con.execute("SELECT view_name FROM duckdb_views()").fetchall()}


def test_a_new_feature_table_is_a_view_that_reads_later_partitions(tmp_path: Path) -> None:
    warehouse = tmp_path / "warehouse.duckdb"
    store = FeatureStore(tmp_path / "features", warehouse=warehouse)
    store.write("user_scores", date(2026, 8, 1), frame=pl.DataFrame({"user_id": ["a"]}))
    assert "user_scores" in views(warehouse) and "trust_scores" not in views(warehouse)
    # A later partition, with a column the first lacked, shows without re-creating the view.
    later = pl.DataFrame({"user_id": ["b", "c"], "fraud_risk": [0.1, 0.9]})
    store.write("user_scores", date(2026, 8, 2), frame=later)
    with duckdb.connect(str(warehouse), read_only=True) as con:
        rows = con.sql(
            "SELECT snapshot_date, user_id, fraud_risk FROM user_scores ORDER BY user_id"
        ).fetchall()
    assert rows == [
        (date(2026, 8, 1), "a", None),
        (date(2026, 8, 2), "b", 0.1),
        (date(2026, 8, 2), "c", 0.9),
    ]


def test_warehouse_refresh_makes_the_views_of_tables_with_data(tmp_path: Path) -> None:
    features = tmp_path / "features"
    FeatureStore(features).write("review_queue", date(2026, 8, 1), frame=pl.DataFrame({"x": [1]}))
    warehouse = tmp_path / "warehouse.duckdb"
    counts = refresh_views(Lake(tmp_path / "lake"), warehouse, features=features)
    assert counts == {"events": 0, "quarantine": 0, "feature_views": 1}
    assert {"events", "review_queue"} <= views(warehouse)
    assert not (set(VIEWS) - {"review_queue"}) & views(warehouse)


def test_a_locked_warehouse_does_not_stop_a_feature_write(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    warehouse = tmp_path / "warehouse.duckdb"
    duckdb.connect(str(warehouse)).close()
    store = FeatureStore(tmp_path / "features", warehouse=warehouse)
    # Another process holding the file (a notebook's connection) locks it against writers.
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            f"import duckdb,time; c=duckdb.connect({str(warehouse)!r}); "
            "print('ready', flush=True); time.sleep(60)",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "ready"
        with caplog.at_level(logging.WARNING, logger="pipelines.feature_store"):
            path = store.write("user_scores", date(2026, 8, 1), frame=pl.DataFrame({"a": [1]}))
    finally:
        holder.kill()
        holder.wait()
    assert path.exists()
    assert "feature views not refreshed" in caplog.text
    assert store.refresh_views() == ["user_scores"]  # once the file is free

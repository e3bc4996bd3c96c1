"""A small simulated platform, ingested into a real lake once per test session."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pytest

from pipelines.ingest import Lake, ingest_days, landing_partitions
from pipelines.ingest.views import refresh_views
from pipelines.simulate import SimConfig, simulate


@dataclass(frozen=True)
class SmallLake:
    root: Path  # the data dir
    events: Path  # <lake>/events, hive-partitioned by event_date
    warehouse: Path  # DuckDB file with the views
    truth: Path  # the simulator's ground truth (evaluation only)
    start: date
    days: int


@pytest.fixture(scope="session")
def small_lake(tmp_path_factory: pytest.TempPathFactory) -> SmallLake:
    root = tmp_path_factory.mktemp("small_lake")
    config = SimConfig(users=1500, days=10, seed=5)
    simulate(config, out=root / "landing", truth_out=root / "ground_truth", progress=False)
    lake = Lake(root / "lake")
    days = sorted(landing_partitions(root / "landing"))
    ingest_days(root / "landing", days, lake=lake)
    refresh_views(lake, root / "warehouse.duckdb")
    return SmallLake(
        root=root, events=lake.events_dir, warehouse=root / "warehouse.duckdb",
        truth=root / "ground_truth", start=config.start, days=config.days,
    )  # fmt: skip

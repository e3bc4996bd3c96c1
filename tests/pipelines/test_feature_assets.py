from __future__ import annotations

import shutil
import warnings
from datetime import timedelta
from pathlib import Path

import dagster
import polars as pl

from pipelines.definitions import FEATURES
from pipelines.resources import Storage
from settings import Settings
from tests.conftest import SmallLake

warnings.filterwarnings("ignore", module="dagster")


def test_feature_assets_materialise_with_passing_checks(
    small_lake: SmallLake, tmp_path: Path
) -> None:
    data = tmp_path / "data"
    shutil.copytree(small_lake.root / "lake", data / "lake")
    storage = Storage(Settings(data_dir=data, landing_dir=small_lake.root / "landing"))
    day = small_lake.start + timedelta(days=small_lake.days)
    result = dagster.materialize(FEATURES, resources={"storage": storage}, partition_key=str(day))
    assert result.success
    failed = [e.check_name for e in result.get_asset_check_evaluations() if not e.passed]
    assert failed == []
    for table in ("trust_scores", "fraud_features", "feed_training"):
        frame = pl.read_parquet(data / "features" / table / f"snapshot_date={day}" / "*.parquet")
        assert frame.height > 0, table

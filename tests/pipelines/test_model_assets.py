from __future__ import annotations

import shutil
import warnings
from datetime import timedelta
from pathlib import Path

import dagster
import polars as pl
import pytest

from pipelines.assets import models as model_assets
from pipelines.definitions import FEATURES, MODELS
from pipelines.resources import Storage
from settings import Settings
from tests.conftest import SmallLake

warnings.filterwarnings("ignore")


def test_models_train_release_score_and_queue(
    small_lake: SmallLake, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Ten simulated days are too few for a week-long label horizon and ranker windows.
    monkeypatch.setattr(model_assets, "HORIZON", timedelta(days=2))
    monkeypatch.setattr(model_assets, "EVERY", timedelta(days=1))
    monkeypatch.setattr(model_assets, "RANKER_DAYS", (4, 2, 2))
    data = tmp_path / "data"
    shutil.copytree(small_lake.root / "lake", data / "lake")
    shutil.copytree(small_lake.truth, data / "ground_truth")
    storage = Storage(Settings(data_dir=data, landing_dir=small_lake.root / "landing"))
    day = str(small_lake.start + timedelta(days=small_lake.days))
    assert dagster.materialize(FEATURES, resources={"storage": storage}, partition_key=day).success
    result = dagster.materialize(MODELS, resources={"storage": storage}, partition_key=day)
    assert result.success
    assert all(e.passed for e in result.get_asset_check_evaluations())
    scores = pl.read_parquet(data / "features" / "user_scores" / f"snapshot_date={day}" / "*")
    assert scores["fraud_risk"].is_between(0, 1).all()
    assert scores["model_version"].unique().to_list() == ["vouch-fraud/1"]  # first = champion
    queue = pl.read_parquet(data / "features" / "review_queue" / f"snapshot_date={day}" / "*")
    assert queue.height > 0 and queue["position"].to_list() == list(range(1, queue.height + 1))
    assert (data / "mlflow.db").exists()

"""Scoring by shard: the shards' union is what one process scoring everyone writes."""

from __future__ import annotations

import shutil
import warnings
from datetime import date

import dagster
import polars as pl
import pytest

from pipelines.assets import scoring
from pipelines.assets.models import user_scores_asset
from pipelines.assets.scoring import SHARD_TABLE, Scorer, gather_scores, user_score_shards
from pipelines.partitions import SHARDS, shard_key
from pipelines.resources import Storage
from tests.pipelines.conftest import TrainedDay

warnings.filterwarnings("ignore", module="dagster")


def _gather(storage: Storage, day: str) -> tuple[pl.DataFrame, int]:
    """Materialise the day's ``user_scores``; its frame and how many shards it scored itself."""
    result = dagster.materialize(
        [user_scores_asset], resources={"storage": storage}, partition_key=day
    )
    assert result.success
    (event,) = result.get_asset_materialization_events()
    here = event.step_materialization_data.materialization.metadata["shards_scored_here"].value
    frame = storage.features.read("user_scores", date.fromisoformat(day))
    return frame, int(here)


def test_shards_scored_apart_gather_into_the_single_process_scores(
    trained_day: TrainedDay, monkeypatch: pytest.MonkeyPatch
) -> None:
    storage = Storage(trained_day.settings())
    shutil.rmtree(storage.features.table(SHARD_TABLE), ignore_errors=True)
    day, shards = trained_day.day, len(SHARDS.get_partition_keys())
    assert shards > 1

    # No shard ran: the gather scores every shard itself, and equals one call over everyone.
    alone, here = _gather(storage, day.isoformat())
    assert here == shards
    rows = storage.features.read("fraud_features", day)
    everyone = Scorer(storage, day, rows).score(rows)
    assert alone.equals(everyone)
    assert alone["model_version"].unique().to_list() == ["vouch-fraud/1"]

    # Each shard as a partition of its own; the gather then only concatenates.
    sizes = []
    for shard in range(shards):
        result = dagster.materialize(
            [user_score_shards],
            resources={"storage": storage},
            partition_key=shard_key(day, shard),
        )
        assert result.success
        (event,) = result.get_asset_materialization_events()
        sizes.append(event.step_materialization_data.materialization.metadata["users"].value)
    assert sum(sizes) == alone.height and min(sizes) > 0
    gathered, here = _gather(storage, day.isoformat())
    assert here == 0
    assert gathered.equals(alone)

    # A new write of the features makes every shard stale: scored again, not trusted.
    storage.features.write(
        "fraud_features", day, frame=storage.features.read("fraud_features", day)
    )
    again, here = _gather(storage, day.isoformat())
    assert here == shards and again.equals(alone)

    # Reasons judged against a sample of the users: still one batch's answer, whatever the cut.
    monkeypatch.setattr(scoring, "REASON_REFERENCE", alone.height // 3)
    sampled = Scorer(storage, day, rows).score(rows)
    for count in (3, 7):
        assert gather_scores(storage, day, shards=count).scores.equals(sampled)

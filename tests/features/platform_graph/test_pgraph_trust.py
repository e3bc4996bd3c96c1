from __future__ import annotations

from datetime import UTC, datetime, timedelta

import polars as pl
import pytest

from features.platform_graph.trust import platform_trust
from features.schema import TABLES, problems
from tests.conftest import SmallLake


@pytest.fixture(scope="module")
def scores(small_lake: SmallLake) -> pl.DataFrame:
    end = datetime.combine(small_lake.start, datetime.min.time(), UTC)
    return platform_trust(small_lake.events, end + timedelta(days=small_lake.days))


def test_platform_trust_meets_its_schema_and_ranges(scores: pl.DataFrame) -> None:
    assert problems(scores, TABLES["trust_scores"]) == []
    for column in ("trust", "engine_trust", "graph_risk"):
        assert scores[column].min() >= 0.0 and scores[column].max() <= 1.0
    assert scores["seed"].sum() > 0


def test_rings_and_farms_get_far_less_trust_than_honest_users(
    scores: pl.DataFrame, small_lake: SmallLake
) -> None:
    truth = pl.read_parquet(small_lake.truth / "users.parquet").select("user_id", "typology")
    mean = scores.join(truth, on="user_id").group_by("typology").agg(pl.col("trust").mean())
    by = dict(zip(mean["typology"].to_list(), mean["trust"].to_list(), strict=True))
    honest = by[None]
    assert by["sybil_ring"] < honest / 3 and by["spam_farm"] < honest / 3

"""The feed assets on the small lake: fan-out into timelines, scores published, `vouch feed`."""

from __future__ import annotations

import json
import shutil
import warnings
from datetime import timedelta
from pathlib import Path

import dagster
import polars as pl
import pytest

from cli import main
from features.platform_graph.neighbourhood import flagged_users
from pipelines.assets import models as model_assets
from pipelines.assets.timelines import feed_scores, feed_timelines
from pipelines.definitions import FEATURES, MODELS
from pipelines.resources import Storage
from serving.feed import SqliteFeed
from settings import Settings, get_settings
from tests.conftest import SmallLake

warnings.filterwarnings("ignore")


@pytest.mark.slow
def test_feed_assets_publish_a_readable_feed(
    small_lake: SmallLake,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setattr(model_assets, "HORIZON", timedelta(days=2))
    monkeypatch.setattr(model_assets, "EVERY", timedelta(days=1))
    monkeypatch.setattr(model_assets, "RANKER_DAYS", (4, 2, 2))
    monkeypatch.delenv("VOUCH_REDIS_URL", raising=False)
    data = tmp_path / "data"
    shutil.copytree(small_lake.root / "lake", data / "lake")
    storage = Storage(Settings(data_dir=data, landing_dir=small_lake.root / "landing"))
    day = str(small_lake.start + timedelta(days=small_lake.days))
    for assets in (FEATURES, MODELS, [feed_timelines, feed_scores]):
        result = dagster.materialize(assets, resources={"storage": storage}, partition_key=day)
        assert result.success
    (published,) = result.get_asset_check_evaluations()  # feed_scores: serves_what_was_scored
    assert published.passed, published.description
    store = SqliteFeed(Settings(data_dir=data).online_feed)
    current, versions = store.versions()
    assert current is not None and [getattr(v, "version", v) for v in versions] == [current]
    viewer, n = store.con.execute(
        "SELECT viewer, count(*) FROM feed_timeline GROUP BY 1 ORDER BY 2 DESC LIMIT 1"
    ).fetchone()
    assert n > 20  # a small platform: three days of posts by the people one follows
    monkeypatch.setenv("VOUCH_DATA_DIR", str(data))
    get_settings.cache_clear()
    try:
        assert main(["feed", viewer, "--json", "--page", "10"]) == 0
        page = json.loads(capsys.readouterr().out)
        assert page["version"] == current and len(page["items"]) == 10 and page["cursor"]
        assert sum(i["scored"] for i in page["items"]) > 0
        assert main(["feed", viewer, "--json", "--page", "10", "--cursor", page["cursor"]]) == 0
        rest = json.loads(capsys.readouterr().out)
        assert main(["feed", viewer, "--page", "5"]) == 0
        assert "next: vouch feed" in capsys.readouterr().out
        assert main(["feed", viewer, "--cursor", "garbage"]) == 2
    finally:
        get_settings.cache_clear()
    served = [i["post_id"] for i in page["items"] + rest["items"]]
    assert len(served) == len(set(served))
    scores = [i["score"] for i in page["items"]]
    assert scores == sorted(scores, reverse=True)
    banned = flagged_users(data / "lake" / "events", store.versions()[1][0].as_of)
    assert not {i["author_id"] for i in page["items"] + rest["items"]} & banned
    users = pl.read_parquet(data / "features" / "user_scores" / f"snapshot_date={day}" / "*")
    assert users.height > 0

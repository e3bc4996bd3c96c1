"""What the feed and search ranker assets share (``pipelines.assets.models.feed_ranker``,
``pipelines.assets.search.search_ranker``): their windows before the snapshot day, the
simulator's truth if there is one, the tags of the release and the metadata it materialises.
"""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path
from typing import Any

from dagster import AssetExecutionContext

from features.platform_graph.store import snapshot_time
from models.feed.evaluate import Windows
from models.lambdarank.release import RankerRelease
from pipelines.resources import Storage


def ranker_windows(day: date, days: tuple[int, int, int]) -> Windows:
    """Train, then valid, then test windows of ``days`` days ending a day before the snapshot
    time of ``day``: impressions and searches need a day for their labels."""
    end = snapshot_time(day) - timedelta(days=1)
    train, valid, test = days
    return Windows.by_days(
        end - timedelta(days=train + valid + test),
        train_days=train,
        valid_days=valid,
        test_days=test,
    )


def simulated_truth(storage: Storage) -> Path | None:
    """The simulator's ground truth on a simulated platform (for evaluation only), else None."""
    return storage.truth if (storage.truth / "manifest.json").exists() else None


def release_tags(context: AssetExecutionContext, day: date) -> dict[str, str]:
    return {"data_snapshot": day.isoformat(), "dagster_run": context.run.run_id}


def release_metadata(done: RankerRelease[Any]) -> dict[str, Any]:
    """The candidate's version, whether it was promoted, its NDCG@10 against every ordering on
    the test groups, and how many groups that is."""
    return {
        "version": done.candidate.version,
        "promoted": done.gate.promoted,
        **{f"ndcg_{name}": float(v) for name, v in done.report["ndcg_at_10"].items()},
        "groups_evaluated": done.report["groups"]["evaluated"],
    }

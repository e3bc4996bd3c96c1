"""Serving assets: the day's ``user_scores`` published to the online store as a new version.

Downstream of ``user_scores``, whose blocking ``publishable`` check must pass first; the
publish itself re-checks the frame (``serving.publish.check_scores``) and flips the pointer
only once the whole version is written.
No ``from __future__ import annotations`` here: Dagster inspects the context annotation.
"""

from dagster import AssetExecutionContext, MaterializeResult, asset

from pipelines.assets.models import user_scores_asset
from pipelines.partitions import SNAPSHOT_DAYS, partition_day
from pipelines.resources import StorageParam
from serving.publish import publish


@asset(
    partitions_def=SNAPSHOT_DAYS,
    deps=[user_scores_asset],
    group_name="serving",
    kinds={"redis", "sqlite"},
)
def published_scores(context: AssetExecutionContext, storage: StorageParam) -> MaterializeResult:
    """Publish the snapshot's user scores: write a version, flip the pointer, prune old ones."""
    day = partition_day(context)
    scores = storage.features.read("user_scores", day)
    store = storage.online_store()
    try:
        done = publish(store, scores, snapshot=day.isoformat())
        current, versions = store.versions()
    finally:
        store.close()
    return MaterializeResult(
        metadata={
            "version": done.version,
            "records": done.records,
            "seconds": round(done.seconds, 3),
            "records_per_s": round(done.records / max(done.seconds, 1e-9)),
            "dropped_versions": list(done.dropped),
            "versions_kept": len(versions),
            "backend": storage.backend,
            "current": current,
        }
    )

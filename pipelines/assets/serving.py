"""Serving assets: the day's ``user_scores`` published to the online store as a new version,
each user's credit limit (``credit_limits``) on the same line as their scores.

Downstream of ``user_scores``, whose blocking ``publishable`` check must pass first; the
publish itself re-checks the frame (``serving.publish.check_scores``) and flips the pointer
only once the whole version is written.
No ``from __future__ import annotations`` here: Dagster inspects the context annotation.
"""

from dagster import (
    AssetCheckResult,
    AssetCheckSeverity,
    AssetCheckSpec,
    AssetExecutionContext,
    MaterializeResult,
    asset,
)

from pipelines.assets.credit import CREDIT_TABLE, credit_limits_asset
from pipelines.assets.models import user_scores_asset
from pipelines.partitions import SNAPSHOT_DAYS, partition_day
from pipelines.resources import StorageParam
from serving.credit import with_credit
from serving.publish import publish, published_mismatches


@asset(
    partitions_def=SNAPSHOT_DAYS,
    deps=[user_scores_asset, credit_limits_asset],
    group_name="serving",
    kinds={"redis", "sqlite"},
    check_specs=[
        AssetCheckSpec(
            "serves_what_was_scored",
            asset="published_scores",
            description="the current version's manifest (records, model, scored_at, snapshot) "
            "and a sample of users read back through the decision path equal user_scores",
        )
    ],
)
def published_scores(context: AssetExecutionContext, storage: StorageParam):
    """Publish the snapshot's user scores: write a version, flip the pointer, prune old ones."""
    day = partition_day(context)
    # Without the day's limits (published_scores materialised alone) the set carries none,
    # and the core API lends nothing until the next publish.
    found = day in storage.features.days(CREDIT_TABLE)
    credit = storage.features.read(CREDIT_TABLE, day) if found else None
    scores = with_credit(storage.features.read("user_scores", day), credit)
    store = storage.online_store()
    try:
        done = publish(store, scores, snapshot=day.isoformat())
        current, versions = store.versions()
        problems = published_mismatches(store, scores, snapshot=day.isoformat())
    finally:
        store.close()
    yield MaterializeResult(
        metadata={
            "version": done.version,
            "records": done.records,
            "seconds": round(done.seconds, 3),
            "records_per_s": round(done.records / max(done.seconds, 1e-9)),
            "dropped_versions": list(done.dropped),
            "versions_kept": len(versions),
            "backend": storage.backend,
            "current": current,
            "model_version": str(scores["model_version"][0]),
            "credit_limits": credit is not None,
        }
    )
    yield AssetCheckResult(
        check_name="serves_what_was_scored",
        passed=not problems,
        severity=AssetCheckSeverity.ERROR,
        description="; ".join(problems[:10]) or f"{done.records} records, as scored",
        metadata={"mismatches": len(problems)},
    )

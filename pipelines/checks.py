"""Checks that run on their own clock rather than inside an asset's run: freshness (has the lake,
have the published scores been updated lately?) and the age of the scores decisions read now.
Wired in ``pipelines.definitions``; the checks computed while an asset runs stay with the asset.

No ``from __future__ import annotations`` here: Dagster inspects the resource annotations.
"""

import warnings
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

from dagster import (
    AssetCheckResult,
    AssetChecksDefinition,
    AssetCheckSeverity,
    AutomationCondition,
    DefaultSensorStatus,
    SensorDefinition,
    asset_check,
    build_last_update_freshness_checks,
    build_sensor_for_freshness_checks,
)

from pipelines.assets.ingest import lake_events
from pipelines.assets.serving import published_scores
from pipelines.resources import StorageParam

# A decision must never read scores older than this without someone being told: a snapshot is
# scored as of 00:00 UTC and the next one lands after the next midnight's ingest, so a healthy
# pipeline peaks at a little over 24 h; two hours of slack for a slow chain.
SCORE_MAX_AGE = timedelta(hours=26)
HOURLY = "0 * * * *"


def freshness_checks() -> Sequence[AssetChecksDefinition]:
    """An ingest and a publish at least every SCORE_MAX_AGE (any partition counts: a backfill
    of an old day also proves the pipeline runs; ``score_age`` judges what is served)."""
    with warnings.catch_warnings():
        # Superseded by FreshnessPolicy, which needs `freshness: enabled` in dagster.yaml while
        # in preview; the checks work on any instance and show on the asset's checks tab.
        warnings.simplefilter("ignore")
        return [
            *build_last_update_freshness_checks(
                assets=[lake_events], lower_bound_delta=SCORE_MAX_AGE
            ),
            *build_last_update_freshness_checks(
                assets=[published_scores],
                lower_bound_delta=SCORE_MAX_AGE,
                severity=AssetCheckSeverity.ERROR,
            ),
        ]


def freshness_sensor(checks: Sequence[AssetChecksDefinition]) -> SensorDefinition:
    """Runs the freshness checks every 10 minutes; it only observes, so it defaults to running."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # superseded, as above
        return build_sensor_for_freshness_checks(
            freshness_checks=checks,
            default_status=DefaultSensorStatus.RUNNING,
            minimum_interval_seconds=600,
        )


@asset_check(
    asset=published_scores,
    name="score_age",
    description=f"the scores decisions read now were scored under {SCORE_MAX_AGE} ago",
    automation_condition=AutomationCondition.cron_tick_passed(HOURLY),
)
def score_age(storage: StorageParam) -> AssetCheckResult:
    store = storage.online_store()
    try:
        current, manifests = store.versions()
    finally:
        store.close()
    manifest = next((m for m in manifests if m.version == current), None)
    if manifest is None:
        return AssetCheckResult(
            passed=False,
            severity=AssetCheckSeverity.ERROR,
            description=f"nothing is published in the {storage.backend} store",
        )
    age = datetime.now(UTC) - manifest.scored_at
    return AssetCheckResult(
        passed=age <= SCORE_MAX_AGE,
        severity=AssetCheckSeverity.ERROR,
        description=f"version {manifest.version} scored {age.total_seconds() / 3600:.1f} h ago",
        metadata={
            "age_hours": round(age.total_seconds() / 3600, 2),
            "version": manifest.version,
            "snapshot": manifest.snapshot,
            "model_version": manifest.model_version,
            "backend": storage.backend,
        },
    )

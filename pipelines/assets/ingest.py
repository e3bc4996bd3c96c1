"""Ingest assets: landing NDJSON -> lake (daily partitions by landing date) -> DuckDB views.

No ``from __future__ import annotations`` here: Dagster inspects the context annotation.
"""

from datetime import date

from dagster import (
    AssetCheckResult,
    AssetCheckSeverity,
    AssetCheckSpec,
    AssetExecutionContext,
    BackfillPolicy,
    MaterializeResult,
    MetadataValue,
    asset,
)

from pipelines.ingest import checks as ingest_checks
from pipelines.ingest import ingest_days
from pipelines.ingest.views import refresh_views
from pipelines.partitions import LANDING_DAYS
from pipelines.resources import StorageParam

_CHECKS = {
    "reconciled": (True, "read = ingested + duplicates + quarantined, recounted from the files"),
    "schema_matches_contract": (True, "every file written has the contract's Arrow schema"),
    "event_ids_unique": (True, "no event_id twice in any partition written"),
    "volume_in_range": (False, "records per landing day within 3x of the trailing 7-day median"),
}


@asset(
    partitions_def=LANDING_DAYS,
    # One run per landing day, so a backfill of many days runs them in parallel (up to the
    # instance's max_concurrent_runs); `vouch ingest` still ingests a range in one run.
    backfill_policy=BackfillPolicy.multi_run(max_partitions_per_run=1),
    group_name="ingest",
    kinds={"parquet"},
    check_specs=[
        AssetCheckSpec(name, asset="lake_events", blocking=blocking, description=text)
        for name, (blocking, text) in _CHECKS.items()
    ],
)
def lake_events(context: AssetExecutionContext, storage: StorageParam):
    """Validated, deduplicated events in ``lake/events/event_date=*/``; bad lines quarantined."""
    reports = ingest_days(
        storage.landing,
        [date.fromisoformat(key) for key in context.partition_keys],
        lake=storage.lake,
        max_future=storage.max_future,
        run_id=context.run.run_id,
        progress=storage.progress,
    )
    totals = {
        k: sum(getattr(r, k) for r in reports)
        for k in ("read", "ingested", "duplicates", "quarantined", "late")
    }
    yield MaterializeResult(
        metadata={
            **totals,
            "partitions": len(reports),
            "reports": MetadataValue.json([r.as_dict() for r in reports]),
        }
    )
    verdicts = {
        "reconciled": ingest_checks.reconciled(reports, lake=storage.lake, landing=storage.landing),
        "schema_matches_contract": ingest_checks.schema_matches(reports, lake=storage.lake),
        "event_ids_unique": ingest_checks.ids_unique(reports, lake=storage.lake),
        "volume_in_range": ingest_checks.volume_in_range(reports, lake=storage.lake),
    }
    for name, verdict in verdicts.items():
        blocking = _CHECKS[name][0]
        yield AssetCheckResult(
            check_name=name,
            passed=verdict.passed,
            severity=AssetCheckSeverity.ERROR if blocking else AssetCheckSeverity.WARN,
            description=verdict.summary,
            metadata=verdict.metadata,
        )


@asset(deps=[lake_events], group_name="ingest", kinds={"duckdb"})
def warehouse_views(storage: StorageParam) -> MaterializeResult:
    """DuckDB views over the lake (events, quarantine, one per type) and the feature tables."""
    # The feature tables' list is pipelines.feature_store.VIEWS; only those with data get one.
    counts = refresh_views(storage.lake, storage.warehouse, features=storage.features.root)
    return MaterializeResult(metadata={**counts, "database": str(storage.warehouse)})

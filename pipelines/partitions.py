"""The days every asset is partitioned by, and how a snapshot day follows a landing day.

A landing day is keyed by the day its files *arrived* (the events inside land in the partition of
the day they happened). A snapshot day D means "as of 00:00 UTC on D": it reads every event that
happened before D, so it follows the ingest of landing day D-1.
"""

from datetime import date

from dagster import (
    AssetDep,
    AssetExecutionContext,
    DailyPartitionsDefinition,
    TimeWindowPartitionMapping,
)

LANDING_DAYS = DailyPartitionsDefinition(start_date="2024-01-01", end_offset=1, timezone="UTC")
SNAPSHOT_DAYS = LANDING_DAYS
# Snapshot D depends on landing day D-1 (by key: the ingest asset's module imports this one).
AFTER_LANDING = AssetDep(
    "lake_events", partition_mapping=TimeWindowPartitionMapping(start_offset=-1, end_offset=-1)
)


def partition_day(context: AssetExecutionContext) -> date:
    return date.fromisoformat(context.partition_key)

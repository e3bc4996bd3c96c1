"""The days every asset is partitioned by, and how a snapshot day follows a landing day.

A landing day is keyed by the day its files *arrived* (the events inside land in the partition of
the day they happened). A snapshot day D means "as of 00:00 UTC on D": it reads every event that
happened before D, so it follows the ingest of landing day D-1.

Dagster reads a partitions definition once, when it loads the definitions (the UI's code server,
each run's process), so the first day is decided then: ``VOUCH_PARTITIONS_START`` when set, else
the earliest landing day on disk (a dated landing folder or an ingest log's landing day), else
today. The UI then counts partitions from where the data starts rather than from a fixed date
years before it; a landing day earlier than that shows up after the next load (or set the
variable). The last partition is always tomorrow's, so new days need no reload.

Per-user work is also cut by user: ``DAY_SHARDS`` is day x shard (``VOUCH_SCORE_SHARDS`` shards
of a stable user-id hash, ``features.shards``), so each shard of a day is a partition of its own
that any worker (a process, a Celery worker, a Kubernetes pod) computes alone. The shard count,
like the first day, is read when the definitions load.
"""

import os
import re
import warnings
from datetime import UTC, date, datetime
from pathlib import Path

from dagster import (
    AssetDep,
    AssetExecutionContext,
    BetaWarning,
    DailyPartitionsDefinition,
    MultiPartitionKey,
    MultiPartitionsDefinition,
    MultiToSingleDimensionPartitionMapping,
    StaticPartitionsDefinition,
    TimeWindowPartitionMapping,
)

from settings import Settings, get_settings

_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")


def _dated(folder: Path, *, prefix: str = "") -> list[date]:
    """Days named by the entries of ``folder`` (``YYYY-MM-DD`` after ``prefix``); no walk."""
    try:
        names = os.listdir(folder)
    except OSError:  # absent or unreadable: no days
        return []
    days = (name.removeprefix(prefix) for name in names if name.startswith(prefix))
    return [date.fromisoformat(d) for d in days if _DAY.fullmatch(d)]


def first_day(settings: Settings) -> date:
    """The first daily partition for these settings (see the module's docstring)."""
    if settings.partitions_start is not None:
        return settings.partitions_start
    found = _dated(settings.landing) + _dated(settings.lake / "_ingest_log", prefix="landing_date=")
    return min(found, default=datetime.now(UTC).date())


LANDING_DAYS = DailyPartitionsDefinition(
    start_date=first_day(get_settings()).isoformat(), end_offset=1, timezone="UTC"
)
SNAPSHOT_DAYS = LANDING_DAYS
# Snapshot D depends on landing day D-1 (by key: the ingest asset's module imports this one).
AFTER_LANDING = AssetDep(
    "lake_events", partition_mapping=TimeWindowPartitionMapping(start_offset=-1, end_offset=-1)
)

SHARDS = StaticPartitionsDefinition([str(k) for k in range(get_settings().score_shards)])
DAY_SHARDS = MultiPartitionsDefinition({"day": SNAPSHOT_DAYS, "shard": SHARDS})
# A day-partitioned asset and a day x shard one meet on the day: a shard reads its day's inputs,
# and a day's gather reads every shard of that day.
with warnings.catch_warnings():  # beta in Dagster 1.13, and it says so at every import
    warnings.simplefilter("ignore", BetaWarning)
    BY_DAY = MultiToSingleDimensionPartitionMapping(partition_dimension_name="day")


def partition_day(context: AssetExecutionContext) -> date:
    return date.fromisoformat(context.partition_key)


def shard_key(day: date, shard: int) -> MultiPartitionKey:
    return MultiPartitionKey({"day": day.isoformat(), "shard": str(shard)})


def partition_shard(context: AssetExecutionContext) -> tuple[date, int, int]:
    """The day, the shard and the shard count of a ``DAY_SHARDS`` partition."""
    key = context.partition_key
    assert isinstance(key, MultiPartitionKey)
    dims = key.keys_by_dimension
    return date.fromisoformat(dims["day"]), int(dims["shard"]), len(SHARDS.get_partition_keys())

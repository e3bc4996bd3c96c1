"""Landing NDJSON -> validated, deduplicated, date-partitioned Parquet lake (+ quarantine).

A plain library: the Dagster assets in ``pipelines.assets.ingest`` call ``ingest_landing`` once per
landing-date partition.
"""

from __future__ import annotations

import re
import time
import uuid
from collections import Counter
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import polars as pl
from tqdm import tqdm

from core_api.events import DEFAULT_MAX_FUTURE
from pipelines.ingest.lake import QUARANTINE_SCHEMA, Lake
from pipelines.ingest.process import Batch, process_batch

__all__ = [
    "QUARANTINE_SCHEMA", "IngestReport", "Lake", "ingest_days", "ingest_landing",
    "landing_partitions",
]  # fmt: skip

_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")


@dataclass
class IngestReport:
    run_id: str
    landing_date: date
    files: list[str]
    read: int = 0
    ingested: int = 0
    duplicates: int = 0
    quarantined: int = 0
    by_reason: dict[str, int] = field(default_factory=dict)
    by_event_date: dict[str, int] = field(default_factory=dict)
    late: int = 0  # ingested events that happened before their landing date
    seconds: float = 0.0

    @property
    def tag(self) -> str:
        """Names every file this ingest wrote."""
        return f"{self.landing_date.isoformat()}-{self.run_id}"

    @property
    def balanced(self) -> bool:
        return self.read == self.ingested + self.duplicates + self.quarantined

    def as_dict(self) -> dict:
        return {**asdict(self), "landing_date": self.landing_date.isoformat()}


def landing_partitions(landing: Path) -> dict[date, list[Path]]:
    """Landing files by arrival date: the nearest ``YYYY-MM-DD`` folder, else the file's mtime."""
    found: dict[date, list[Path]] = {}
    for path in sorted(landing.rglob("*.ndjson")):
        folder = next(
            (p.name for p in path.relative_to(landing).parents if _DAY.match(p.name)), None
        )
        day = (
            date.fromisoformat(folder)
            if folder
            else datetime.fromtimestamp(path.stat().st_mtime, UTC).date()
        )
        found.setdefault(day, []).append(path)
    return found


def ingest_landing(
    files: list[Path],
    *,
    landing: Path,
    lake: Lake,
    landing_date: date,
    now: datetime | None = None,
    max_future: timedelta = DEFAULT_MAX_FUTURE,
    run_id: str | None = None,
    bar: tqdm | None = None,
) -> IngestReport:
    """Ingest one landing partition exactly once into the lake; safe to re-run at any time.

    ``run_id`` (the orchestrator's run, if any) names the files written, for lineage.
    """
    started = time.perf_counter()
    now = now or datetime.now(UTC)
    run_id = run_id or f"{now:%Y%m%dT%H%M%S}-{uuid.uuid4().hex[:8]}"
    sources = [str(p.relative_to(landing)) for p in files]
    report = IngestReport(run_id=run_id, landing_date=landing_date, files=sources)
    tag = report.tag
    outcome = process_batch(Batch.read(files, sources), now=now, max_future=max_future)
    if bar is not None:
        bar.update(sum(p.stat().st_size for p in files))
    report.read = outcome.read

    # Every record must end up as exactly one of these three; the sum is checked, not assumed.
    events = outcome.events
    if events.height:
        unique = events.filter(pl.col("event_id").is_first_distinct())
        unique = unique.with_columns(
            pl.lit(now).cast(pl.Datetime("us", "UTC")).alias("ingested_at")
        )
        written = lake.append_events(unique, tag=tag)
        report.ingested = sum(written.values())
        report.duplicates += events.height - report.ingested
        report.by_event_date = {d.isoformat(): n for d, n in sorted(written.items())}
        report.late = sum(n for d, n in written.items() if d < landing_date)
    quarantine = outcome.quarantine
    if quarantine.height:
        new = lake.append_quarantine(quarantine, landing_date=landing_date, tag=tag)
        report.quarantined = new.height
        report.duplicates += quarantine.height - new.height
        report.by_reason = dict(Counter(new.get_column("reason").to_list()).most_common())
    report.seconds = round(time.perf_counter() - started, 3)
    lake.write_log(report.as_dict(), landing_date=landing_date, tag=tag)
    return report


def ingest_days(
    landing: Path,
    days: list[date],
    *,
    lake: Lake,
    max_future: timedelta = DEFAULT_MAX_FUTURE,
    run_id: str | None = None,
    progress: bool = False,
) -> list[IngestReport]:
    """Ingest several landing days in turn, with one progress bar over all their bytes."""
    found = landing_partitions(landing) if landing.exists() else {}
    total = sum(p.stat().st_size for d in days for p in found.get(d, []))
    with tqdm(total=total, unit="B", unit_scale=True, desc="ingest", disable=not progress) as bar:
        return [
            ingest_landing(
                found.get(d, []),
                landing=landing,
                lake=lake,
                landing_date=d,
                max_future=max_future,
                run_id=run_id,
                bar=bar,
            )
            for d in days
        ]

"""Landing NDJSON -> validated, deduplicated, date-partitioned Parquet lake (+ quarantine).

A plain library: the Dagster assets in ``pipelines.assets.ingest`` call ``ingest_landing`` once per
landing-date partition.
"""

from __future__ import annotations

import os
import re
import time
import uuid
from collections import Counter, deque
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from tqdm import tqdm

from core_api.events import DEFAULT_MAX_FUTURE
from pipelines.ingest.lake import QUARANTINE_SCHEMA, Lake
from pipelines.ingest.process import Batch, Outcome, process_batch

__all__ = [
    "QUARANTINE_SCHEMA",
    "IngestReport",
    "Lake",
    "ingest_days",
    "ingest_landing",
    "landing_partitions",
]

_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")
# Days read (parsed, checked) ahead of the one being committed, each in its own thread: a read
# has long single-threaded stretches (Python, numpy, DuckDB's per-type queries), and two of them
# beside the commit keep both cores busy. Each holds a day's lines and frames in memory.
_READ_AHEAD = 2


@dataclass
class IngestReport:
    run_id: str
    landing_date: date
    files: list[str]
    # Per file: [bytes, records] as read, so the reconcile check need not read the landing again.
    landed: dict[str, list[int]] = field(default_factory=dict)
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
    paths = (
        Path(folder) / name
        for folder, _, names in os.walk(landing, followlinks=True)  # a day may be a link
        for name in names
        if name.endswith(".ndjson")
    )
    for path in sorted(paths):
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
) -> IngestReport:
    """Ingest one landing partition exactly once into the lake; safe to re-run at any time.

    ``run_id`` (the orchestrator's run, if any) names the files written, for lineage.
    """
    now = now or datetime.now(UTC)
    batch = _read(files, landing=landing, now=now, max_future=max_future)
    return _commit(batch, lake=lake, landing_date=landing_date, now=now, run_id=run_id)


@dataclass(frozen=True)
class _Read:
    sources: list[str]
    sizes: list[int]
    outcome: Outcome
    seconds: float


def _read(files: list[Path], *, landing: Path, now: datetime, max_future: timedelta) -> _Read:
    """Everything that does not touch the lake: safe to run ahead of the previous day's writes."""
    started = time.perf_counter()
    sources = [str(p.relative_to(landing)) for p in files]
    batch = Batch.read(files, sources)
    outcome = process_batch(batch, now=now, max_future=max_future)
    return _Read(sources, batch.sizes, outcome, time.perf_counter() - started)


def _commit(
    batch: _Read, *, lake: Lake, landing_date: date, now: datetime, run_id: str | None
) -> IngestReport:
    started = time.perf_counter()
    run_id = run_id or f"{now:%Y%m%dT%H%M%S}-{uuid.uuid4().hex[:8]}"
    report = IngestReport(run_id=run_id, landing_date=landing_date, files=batch.sources)
    report.landed = {
        s: [size, n]
        for s, size, n in zip(batch.sources, batch.sizes, batch.outcome.records, strict=True)
    }
    report.read = batch.outcome.read
    # Every record must end up as exactly one of these three; the sum is checked, not assumed.
    outcome = batch.outcome
    written: Counter[date] = Counter()
    # The main day's rows are all first copies of one day: written without a filter.
    for events, fresh in ((outcome.main, None), (outcome.rest, outcome.rest_fresh)):
        if events.height:
            written.update(lake.append_events(events, fresh=fresh, tag=report.tag))
    report.ingested = sum(written.values())
    report.duplicates += outcome.main.height + outcome.rest.height - report.ingested
    report.by_event_date = {d.isoformat(): n for d, n in sorted(written.items())}
    report.late = sum(n for d, n in written.items() if d < landing_date)
    quarantine = batch.outcome.quarantine
    if quarantine.height:
        new = lake.append_quarantine(quarantine, landing_date=landing_date, tag=report.tag)
        report.quarantined = new.height
        report.duplicates += quarantine.height - new.height
        report.by_reason = dict(Counter(new.get_column("reason").to_list()).most_common())
    report.seconds = round(batch.seconds + time.perf_counter() - started, 3)
    lake.write_log(report.as_dict(), landing_date=landing_date, tag=report.tag)
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
    """Ingest several landing days in order, reading the next days while writing this one."""
    found = landing_partitions(landing) if landing.exists() else {}
    now = datetime.now(UTC)
    total = sum(p.stat().st_size for d in days for p in found.get(d, []))
    reports: list[IngestReport] = []
    with (
        tqdm(total=total, unit="B", unit_scale=True, desc="ingest", disable=not progress) as bar,
        ThreadPoolExecutor(max_workers=_READ_AHEAD) as ahead,
    ):

        def read(d: date) -> Future[_Read]:
            files = found.get(d, [])
            return ahead.submit(_read, files, landing=landing, now=now, max_future=max_future)

        pending = deque(read(d) for d in days[:_READ_AHEAD])
        for i, d in enumerate(days):
            batch = pending.popleft().result()
            if i + _READ_AHEAD < len(days):
                pending.append(read(days[i + _READ_AHEAD]))
            reports.append(_commit(batch, lake=lake, landing_date=d, now=now, run_id=run_id))
            bar.update(sum(p.stat().st_size for p in found.get(d, [])))
    return reports

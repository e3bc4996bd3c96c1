"""The lake's layout on disk and its exactly-once writes.

    <lake>/events/event_date=D/part-<tag>.parquet         valid events, by the day they happened
    <lake>/quarantine/landing_date=D/part-<tag>.parquet   refused lines, by the day they arrived
    <lake>/_ingest_log/landing_date=D/<tag>.json          what each ingest read and did
    <lake>/_schema/{events,quarantine}.parquet            empty, typed: views before any data

where ``<tag>`` is ``<landing date>-<run id>``: every file names the ingest that wrote it.

An event's date partition follows from its ``occurred_at``, so a re-delivered event always meets
its first copy in the same partition: deduplication reads one partition's ids, under that
partition's lock, and never the whole lake.
"""

from __future__ import annotations

import fcntl
import io
import json
import os
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import polars as pl
import pyarrow as pa

from core_api.events import LAKE_SCHEMA
from pipelines.ingest.frames import keep

QUARANTINE_SCHEMA = pa.schema(
    [
        pa.field("quarantine_id", pa.string(), nullable=False),
        pa.field("source", pa.string(), nullable=False),
        pa.field("line", pa.int64(), nullable=False),
        pa.field("reason", pa.string(), nullable=False),
        pa.field("field", pa.string()),
        pa.field("detail", pa.string(), nullable=False),
        pa.field("raw", pa.binary(), nullable=False),
        pa.field("quarantined_at", pa.timestamp("us", tz="UTC"), nullable=False),
    ]
)


def _write_atomically(frame: pl.DataFrame, path: Path) -> None:
    # Encoded in memory first (as fast as to a file: a compressed file is small), so a full disk
    # fails a plain write with ENOSPC, where polars writing the file reports a torn footer
    # ("Invalid thrift: transport error"). zstd level 1: as small as the default here, faster.
    buffer = io.BytesIO()
    frame.write_parquet(buffer, compression="zstd", compression_level=1)
    _replace(path, buffer.getbuffer())


def _replace(path: Path, data: bytes | memoryview) -> None:
    """Write ``data`` to ``path`` by a rename: readers glob ``*.parquet`` / ``*.json`` and never
    see a half-written file, and a failed write leaves no temporary file holding the space."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    try:
        with open(tmp, "wb") as out:
            out.write(data)
        os.replace(tmp, path)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise OSError(exc.errno, exc.strerror, str(path)) from exc  # name what was being written
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


@dataclass(frozen=True)
class Lake:
    root: Path

    @property
    def events_dir(self) -> Path:
        return self.root / "events"

    @property
    def quarantine_dir(self) -> Path:
        return self.root / "quarantine"

    @property
    def log_dir(self) -> Path:
        return self.root / "_ingest_log"

    @property
    def schema_dir(self) -> Path:
        """Empty typed files the DuckDB views read while a table has no data yet."""
        return self.root / "_schema"

    def event_partition(self, day: date) -> Path:
        return self.events_dir / f"event_date={day.isoformat()}"

    def quarantine_partition(self, day: date) -> Path:
        return self.quarantine_dir / f"landing_date={day.isoformat()}"

    @contextmanager
    def locked(self, table: str, days: list[date]) -> Iterator[None]:
        """Hold the write locks of these partitions (taken in order: no deadlock)."""
        lock_dir = self.root / "_locks"
        lock_dir.mkdir(parents=True, exist_ok=True)
        with ExitStack() as stack:
            for day in sorted(set(days)):
                lock = lock_dir / f"{table}-{day.isoformat()}.lock"
                handle = stack.enter_context(open(lock, "w"))
                fcntl.flock(handle, fcntl.LOCK_EX)
            yield

    def known_ids(self, directory: Path, column: str) -> pl.Series:
        files = sorted(directory.glob("*.parquet"))
        if not files:
            return pl.Series(column, [], pl.String)
        return pl.scan_parquet(files).select(column).collect().to_series()

    def append_events(
        self, frame: pl.DataFrame, *, fresh: pl.Series | None = None, tag: str
    ) -> dict[date, int]:
        """Write the rows (those ``fresh`` marks, if given) not already in the lake.

        Returns the rows written per event date. ``frame`` has LAKE_SCHEMA columns.
        """
        day = frame.get_column("occurred_at").dt.date()
        fresh = fresh if fresh is not None else pl.Series([True]).new_from_index(0, frame.height)
        counts = day.filter(fresh).value_counts(sort=True)
        days = counts.get_column("occurred_at").to_list()
        written: dict[date, int] = {}
        with self.locked("events", days):
            for d, part in self._by_day(frame, day, fresh, main=days[0] if days else None):
                known = self.known_ids(self.event_partition(d), "event_id")
                if len(known):
                    part = keep(part, ~part.get_column("event_id").is_in(known.implode()))
                if part.height:
                    path = self.event_partition(d) / f"part-{tag}.parquet"
                    _write_atomically(part.select(LAKE_SCHEMA.names), path)
                    written[d] = part.height
        return dict(sorted(written.items()))

    @staticmethod
    def _by_day(
        frame: pl.DataFrame, day: pl.Series, fresh: pl.Series, *, main: date | None
    ) -> Iterator[tuple[date, pl.DataFrame]]:
        """Split by day: one pass for the big day, one grouping for the late stragglers."""
        if main is None:
            return
        is_main = day == main
        yield main, keep(frame, is_main & fresh)
        rest = fresh & ~is_main
        if rest.any():
            late = frame.filter(rest).with_columns(day.filter(rest).alias("_day"))
            for (d,), part in late.partition_by("_day", as_dict=True, include_key=False).items():
                yield d, part

    def append_quarantine(
        self, frame: pl.DataFrame, *, landing_date: date, tag: str
    ) -> pl.DataFrame:
        """Write quarantine rows not already recorded (same file, line and bytes); returns them."""
        directory = self.quarantine_partition(landing_date)
        with self.locked("quarantine", [landing_date]):
            known = self.known_ids(directory, "quarantine_id")
            frame = frame.filter(~pl.col("quarantine_id").is_in(known.implode()))
            if frame.height:
                _write_atomically(frame, directory / f"part-{tag}.parquet")
        return frame

    def write_log(self, record: dict, *, landing_date: date, tag: str) -> Path:
        path = self.log_dir / f"landing_date={landing_date.isoformat()}" / f"{tag}.json"
        _replace(path, json.dumps(record, indent=2, default=str).encode())
        return path

    def read_logs(self) -> list[dict]:
        return [json.loads(p.read_text()) for p in sorted(self.log_dir.glob("*/*.json"))]

"""A landing day's files in; their valid events (lake form) and quarantine rows out.

All files of a batch are parsed together, one columnar query per event type (per-query overhead
is what hurts small files). Lines the fast path cannot vouch for go through the reference parser
one by one.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import polars as pl

from core_api.events import (
    DEFAULT_MAX_FUTURE,
    LAKE_SCHEMA,
    Envelope,
    Rejection,
    parse_event,
    to_wire,
)
from pipelines.ingest.columnar import ROW, parse_candidates
from pipelines.ingest.frames import keep
from pipelines.ingest.lines import Lines, blank_lines, fast_candidates, split_lines
from pipelines.ingest.rules import TIME, to_lake, valid_rows, with_time


@dataclass(frozen=True)
class Outcome:
    """Valid events in lake form (plus ``ingested_at``, ``source``, ``line``), in two frames: the
    batch's first copies that happened on its main day (nearly every row: written as they are,
    never filtered again) and the rest (other days, and repeats within the batch)."""

    main: pl.DataFrame
    rest: pl.DataFrame
    rest_fresh: pl.Series  # per row of ``rest``: the batch's first copy of its event_id
    quarantine: pl.DataFrame  # QUARANTINE_SCHEMA columns
    read: int  # records seen: every line that is not blank
    records: list[int]  # the same, per file of the batch

    @property
    def events(self) -> pl.DataFrame:
        """Every valid row, repeats included."""
        return pl.concat([self.main, self.rest])


@dataclass(frozen=True)
class Batch:
    """Several files' lines back to back, and where each line came from."""

    lines: Lines
    sources: list[str]
    first_line: np.ndarray  # index of each file's first line
    sizes: list[int]  # each file's bytes as read

    @classmethod
    def read(cls, paths: list[Path], sources: list[str]) -> Batch:
        """Read the files straight into one buffer (no copy per file), a newline after each."""
        sizes = [os.stat(p).st_size for p in paths]
        buffer = bytearray(sum(sizes) + len(paths))
        view = memoryview(buffer)
        at, starts, got = 0, [], []
        for path in paths:
            starts.append(at)
            with open(path, "rb", buffering=0) as f:
                n = 0  # the file may have changed since the stat: read what is there now
                while True:
                    if at + n == len(buffer):
                        buffer.extend(bytes(1 << 20))
                        view = memoryview(buffer)
                    k = f.readinto(view[at + n :])
                    if not k:
                        break
                    n += k
            got.append(n)
            at += n
            if n and buffer[at - 1] != 10:  # or its last line would run into the next file's first
                buffer[at] = 10
                at += 1
        del view
        del buffer[at:]
        lines = split_lines(buffer)
        first = np.searchsorted(lines.starts, np.array(starts, np.int64)).astype(np.int64)
        return cls(lines, sources, first, got)

    def file_of(self, idx: np.ndarray) -> np.ndarray:
        return np.searchsorted(self.first_line, idx, side="right") - 1

    def locate(self, i: int) -> tuple[str, int]:
        """(source, 1-based line number) of batch line ``i``."""
        f = int(self.file_of(np.array([i]))[0])
        return self.sources[f], i - int(self.first_line[f]) + 1

    def lineage(self, idx: np.ndarray) -> list[pl.Series]:
        f = self.file_of(idx)
        source = pl.Series("source", np.array(self.sources, dtype=object)[f], pl.String)
        return [source, pl.Series("line", idx - self.first_line[f] + 1, pl.Int64)]


def quarantine_id(source: str, line: int, *, raw: bytes) -> str:
    """Same file, same line, same bytes: the same quarantine record on every re-run."""
    digest = hashlib.sha256(f"{source}\0{line}\0".encode() + raw)
    return digest.hexdigest()[:32]


def _columnar(
    lines: Lines, idx: np.ndarray, *, now: datetime, max_future: timedelta
) -> tuple[list[tuple[str, pl.DataFrame]], np.ndarray]:
    """Valid rows, one narrow frame per event type (wire columns, ``occurred_at`` parsed too)
    with their line indexes in ``ROW``; and the lines that need a closer look (sorted)."""
    parsed, doubtful = parse_candidates(lines, idx)
    frames, refused = [], [doubtful]
    for event_type, frame in parsed.items():
        frame = with_time(frame)
        ok = valid_rows(frame, event_type=event_type, now=now, max_future=max_future)
        refused.append(frame.get_column(ROW).to_numpy()[~ok])
        frames.append((event_type, keep(frame, ok)))
    return frames, np.sort(np.concatenate(refused))


def process_batch(
    batch: Batch, *, now: datetime | None = None, max_future: timedelta = DEFAULT_MAX_FUTURE
) -> Outcome:
    now = now or datetime.now(UTC)
    lines = batch.lines
    candidates = fast_candidates(lines)
    frames, doubtful = _columnar(lines, np.flatnonzero(candidates), now=now, max_future=max_future)
    rejected: list[tuple[int, Rejection]] = []
    accepted: list[tuple[int, Envelope]] = []
    blank = blank_lines(lines)
    for i in np.sort(np.concatenate((np.flatnonzero(~candidates & ~blank), doubtful))).tolist():
        verdict = parse_event(lines.raw(i), now=now, max_future=max_future)
        if isinstance(verdict, Rejection):
            rejected.append((i, verdict))
        else:
            accepted.append((i, verdict))
    if accepted:
        # Valid lines in another encoding (spacing, key order, escapes, ...): re-encode them
        # canonically and send them through the same columnar path as everything else.
        canonical = split_lines(b"".join(to_wire(e) + b"\n" for _, e in accepted))
        again, disagree = _columnar(
            canonical, np.arange(len(canonical)), now=now, max_future=max_future
        )
        origin = np.array([i for i, _ in accepted], np.int64)
        frames += [(t, f.with_columns(pl.Series(ROW, origin[f.get_column(ROW)]))) for t, f in again]
        for k in disagree.tolist():
            detail = "the columnar rules refuse a line the reference parser accepts"
            rejected.append((int(origin[k]), Rejection("invalid_value", None, detail)))
    main, rest, rest_fresh = _split(batch, frames, now=now)
    records = np.bincount(batch.file_of(np.flatnonzero(~blank)), minlength=len(batch.sources))
    return Outcome(
        main,
        rest,
        rest_fresh,
        _quarantine_frame(batch, rejected),
        int(records.sum()),
        records.tolist(),
    )


def _split(
    batch: Batch, frames: list[tuple[str, pl.DataFrame]], *, now: datetime
) -> tuple[pl.DataFrame, pl.DataFrame, pl.Series]:
    """The narrow frames in lake form, as (main-day first copies, the rest, which of the rest
    are first copies). Split while narrow: filtering the wide lake rows costs far more."""
    keys = [
        f.select(ROW, pl.col("event_id").str.to_lowercase(), pl.col(TIME).dt.date().alias("day"))
        for _, f in frames
    ]
    key = (
        pl.concat(keys)
        if keys
        else pl.DataFrame(schema={ROW: pl.Int64, "event_id": pl.String, "day": pl.Date})
    )
    fresh = _first_copies(key.get_column("event_id"), key.get_column(ROW).to_numpy())
    days = key.get_column("day").filter(fresh).value_counts(sort=True)
    in_main = fresh & (key.get_column("day") == days.item(0, 0)) if days.height else fresh & False
    stamp = pl.lit(now).cast(pl.Datetime("us", "UTC")).alias("ingested_at")
    mains, rests, at = [], [], 0
    for (event_type, frame), k in zip(frames, keys, strict=True):
        mask = in_main.slice(at, k.height)
        at += k.height
        for part, out in ((keep(frame, mask), mains), (keep(frame, ~mask), rests)):
            if part.height:
                lake = to_lake(part, event_type=event_type).with_columns(stamp)
                rows = lake.get_column(ROW).to_numpy()
                out.append(lake.drop(ROW).with_columns(*batch.lineage(rows)))
    # No rechunk: the rows go to the Parquet writer as they are, chunk by chunk.
    return _events(mains), _events(rests), fresh.filter(~in_main)


def _events(parts: list[pl.DataFrame]) -> pl.DataFrame:
    return pl.concat(parts, rechunk=False) if parts else _empty_events()


def _first_copies(event_id: pl.Series, rows: np.ndarray) -> pl.Series:
    """Which rows are the first copy of their event_id in line order (rows come by type)."""
    order = np.argsort(rows, kind="stable")
    first = event_id.gather(order).is_first_distinct().to_numpy()
    fresh = np.empty(len(rows), bool)
    fresh[order] = first
    return pl.Series("fresh", fresh)


def _empty_events() -> pl.DataFrame:
    empty = pl.from_arrow(LAKE_SCHEMA.empty_table())
    assert isinstance(empty, pl.DataFrame)
    return empty


def _quarantine_frame(batch: Batch, rejected: list[tuple[int, Rejection]]) -> pl.DataFrame:
    located = [batch.locate(i) for i, _ in rejected]
    raws = [batch.lines.raw(i) for i, _ in rejected]
    return pl.DataFrame(
        {
            "quarantine_id": [
                quarantine_id(source, line, raw=raw)
                for (source, line), raw in zip(located, raws, strict=True)
            ],
            "source": [source for source, _ in located],
            "line": [line for _, line in located],
            "reason": [r.reason for _, r in rejected],
            "field": [r.field for _, r in rejected],
            "detail": [r.detail for _, r in rejected],
            "raw": raws,
            "quarantined_at": [datetime.now(UTC)] * len(rejected),
        },
        schema={
            "quarantine_id": pl.String,
            "source": pl.String,
            "line": pl.Int64,
            "reason": pl.String,
            "field": pl.String,
            "detail": pl.String,
            "raw": pl.Binary,
            "quarantined_at": pl.Datetime("us", "UTC"),
        },
    )

"""A landing day's files in; their valid events (lake form) and quarantine rows out.

All files of a batch are parsed by one columnar query (per-query overhead is what hurts small
files). Lines the fast path cannot vouch for go through the reference parser one by one.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import polars as pl

from core_api.events import DEFAULT_MAX_FUTURE, Envelope, Rejection, parse_event, to_wire
from pipelines.ingest.columnar import parse_candidates
from pipelines.ingest.frames import keep
from pipelines.ingest.lines import Lines, blank_lines, fast_candidates, split_lines
from pipelines.ingest.rules import to_lake, valid_rows, with_time


@dataclass(frozen=True)
class Outcome:
    events: pl.DataFrame  # lake columns plus source and line
    quarantine: pl.DataFrame  # QUARANTINE_SCHEMA columns
    read: int  # records seen: every line that is not blank
    records: list[int]  # the same, per file of the batch


@dataclass(frozen=True)
class Batch:
    """Several files' lines back to back, and where each line came from."""

    lines: Lines
    sources: list[str]
    first_line: np.ndarray  # index of each file's first line
    sizes: list[int]  # each file's bytes as read

    @classmethod
    def read(cls, paths: list[Path], sources: list[str]) -> Batch:
        chunks, counts, sizes = [], [], []
        for path in paths:
            data = path.read_bytes()
            sizes.append(len(data))
            if data and not data.endswith(b"\n"):
                data += b"\n"  # or its last line would run into the next file's first
            chunks.append(data)
            counts.append(data.count(b"\n"))
        first = np.concatenate(([0], np.cumsum(counts)[:-1])).astype(np.int64)
        return cls(split_lines(b"".join(chunks)), sources, first, sizes)

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


def _order(idx: np.ndarray) -> pl.Series:
    return pl.Series("_i", idx, pl.Int64)


def quarantine_id(source: str, line: int, *, raw: bytes) -> str:
    """Same file, same line, same bytes: the same quarantine record on every re-run."""
    digest = hashlib.sha256(f"{source}\0{line}\0".encode() + raw)
    return digest.hexdigest()[:32]


def _columnar(
    lines: Lines, idx: np.ndarray, *, now: datetime, max_future: timedelta
) -> tuple[pl.DataFrame, np.ndarray, np.ndarray]:
    """Valid rows in lake form, their line indexes, and the lines that need a closer look."""
    frame = with_time(parse_candidates(lines, idx))
    ok = frame.get_column("canonical").to_numpy()
    if frame.height:
        ok &= valid_rows(frame, now=now, max_future=max_future)
    return to_lake(keep(frame, ok)), idx[ok], idx[~ok]


def process_batch(
    batch: Batch, *, now: datetime | None = None, max_future: timedelta = DEFAULT_MAX_FUTURE
) -> Outcome:
    now = now or datetime.now(UTC)
    lines = batch.lines
    candidates = fast_candidates(lines)
    good, good_idx, doubtful = _columnar(
        lines, np.flatnonzero(candidates), now=now, max_future=max_future
    )
    rejected: list[tuple[int, Rejection]] = []
    accepted: list[tuple[int, Envelope]] = []
    blank = blank_lines(lines)
    for i in np.sort(np.concatenate((np.flatnonzero(~candidates & ~blank), doubtful))).tolist():
        verdict = parse_event(lines.raw(i), now=now, max_future=max_future)
        if isinstance(verdict, Rejection):
            rejected.append((i, verdict))
        else:
            accepted.append((i, verdict))
    frames = [good.with_columns(*batch.lineage(good_idx), _order(good_idx))]
    if accepted:
        # Valid lines in another encoding (spacing, key order, escapes, ...): re-encode them
        # canonically and send them through the same columnar path as everything else.
        canonical = split_lines(b"".join(to_wire(e) + b"\n" for _, e in accepted))
        again, again_idx, disagree = _columnar(
            canonical, np.arange(len(canonical)), now=now, max_future=max_future
        )
        origin = np.array([i for i, _ in accepted], np.int64)
        back = origin[again_idx]
        frames.append(again.with_columns(*batch.lineage(back), _order(back)))
        for k in disagree.tolist():
            detail = "the columnar rules refuse a line the reference parser accepts"
            rejected.append((int(origin[k]), Rejection("invalid_value", None, detail)))
    events = pl.concat(frames)
    if len(frames) > 1:
        events = events.sort("_i")  # batch order: the first copy of a duplicate wins
    events = events.drop("_i")
    records = np.bincount(batch.file_of(np.flatnonzero(~blank)), minlength=len(batch.sources))
    read = int(records.sum())
    return Outcome(events, _quarantine_frame(batch, rejected), read, records.tolist())


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

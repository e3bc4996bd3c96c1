"""One landing file in, its valid events (lake form) and its quarantine rows out."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import polars as pl

from core_api.events import DEFAULT_MAX_FUTURE, Envelope, Rejection, parse_event, to_wire
from pipelines.ingest.columnar import parse_candidates
from pipelines.ingest.lines import Lines, blank_out, fast_candidates, split_lines
from pipelines.ingest.rules import to_lake, valid_rows


@dataclass(frozen=True)
class Outcome:
    events: pl.DataFrame  # lake columns plus source and line
    quarantine: pl.DataFrame  # QUARANTINE_SCHEMA columns
    read: int  # records seen: every line that is not blank


def quarantine_id(source: str, line: int, raw: bytes) -> str:
    """Same file, same line, same bytes: the same quarantine record on every re-run."""
    digest = hashlib.sha256(f"{source}\0{line}\0".encode() + raw)
    return digest.hexdigest()[:32]


def _columnar(
    buf: bytes, lines: Lines, idx: np.ndarray, *, now: datetime, max_future: timedelta
) -> tuple[pl.DataFrame, np.ndarray, list[int]]:
    """Valid rows in lake form with their line indexes, and the lines that need a closer look."""
    table, rows, refused = parse_candidates(buf, lines, idx)
    frame = pl.from_arrow(table)
    assert isinstance(frame, pl.DataFrame)
    ok = valid_rows(frame, now=now, max_future=max_future) if frame.height else np.zeros(0, bool)
    good = to_lake(frame.filter(pl.Series(ok)))
    return good, rows[ok], sorted([*refused, *rows[~ok].tolist()])


def process_file(
    path: Path,
    *,
    source: str,
    now: datetime | None = None,
    max_future: timedelta = DEFAULT_MAX_FUTURE,
) -> Outcome:
    now = now or datetime.now(UTC)
    lines = split_lines(path.read_bytes())
    candidates = fast_candidates(lines)
    good, good_idx, doubtful = _columnar(
        blank_out(lines, ~candidates),
        lines,
        np.flatnonzero(candidates),
        now=now,
        max_future=max_future,
    )
    rejected: list[tuple[int, Rejection]] = []
    accepted: list[tuple[int, Envelope]] = []
    blank = 0
    for i in sorted([*np.flatnonzero(~candidates).tolist(), *doubtful]):
        raw = lines.raw(i)
        if not raw.strip():
            blank += 1
            continue
        verdict = parse_event(raw, now=now, max_future=max_future)
        if isinstance(verdict, Rejection):
            rejected.append((i, verdict))
        else:
            accepted.append((i, verdict))
    frames = [good.with_columns(pl.Series("line", good_idx + 1, pl.Int64))]
    if accepted:
        # Lines the reference accepts but the fast path did not (odd spacing, key order, ...):
        # re-encode canonically and send them through the same columnar path.
        canonical = split_lines(b"".join(to_wire(e) + b"\n" for _, e in accepted))
        again, again_idx, disagree = _columnar(
            canonical.data, canonical, np.arange(len(canonical)), now=now, max_future=max_future
        )
        origin = np.array([i for i, _ in accepted], np.int64)
        frames.append(again.with_columns(pl.Series("line", origin[again_idx] + 1, pl.Int64)))
        for k in disagree:
            detail = "the columnar rules refuse a line the reference parser accepts"
            rejected.append((int(origin[k]), Rejection("invalid_value", None, detail)))
    events = pl.concat(frames).with_columns(pl.lit(source).alias("source"))
    if len(frames) > 1:
        events = events.sort("line")  # file order: the first copy of a duplicate wins
    return Outcome(events, _quarantine_frame(lines, rejected, source=source), len(lines) - blank)


def _quarantine_frame(
    lines: Lines, rejected: list[tuple[int, Rejection]], *, source: str
) -> pl.DataFrame:
    raws = [lines.raw(i) for i, _ in rejected]
    return pl.DataFrame(
        {
            "quarantine_id": [
                quarantine_id(source, i + 1, raw)
                for (i, _), raw in zip(rejected, raws, strict=True)
            ],
            "source": [source] * len(rejected),
            "line": [i + 1 for i, _ in rejected],
            "reason": [r.reason for _, r in rejected],
            "field": [r.field for _, r in rejected],
            "detail": [r.detail for _, r in rejected],
            "raw": raws,
            "quarantined_at": [datetime.now(UTC)] * len(rejected),
        },
        schema={
            "quarantine_id": pl.String, "source": pl.String, "line": pl.Int64,
            "reason": pl.String, "field": pl.String, "detail": pl.String, "raw": pl.Binary,
            "quarantined_at": pl.Datetime("us", "UTC"),
        },
    )  # fmt: skip

"""Trailing-window features on polars frames: counts and sums as of each row or query.

Window bounds, everywhere: a window of length ``w`` with delay ``d`` evaluated at time ``t`` covers
event times in ``(t - d - w, t - d]`` (open on the left, closed on the right, like pandas'
time-based ``rolling``). ``w=None`` means all history up to ``t - d``.

``current`` decides the right end when it is the row's own time (no delay). Evaluated on the
events themselves (``queries=None``):

- ``"include"``: the row itself and every row before it in (time, input) order; a later row with
  the same timestamp is not known yet. The handbook's "window includes the current transaction".
- ``"exclude"``: only the rows before it in (time, input) order (the history a row is compared
  with, e.g. for an amount z-score).
- ``"peers"``: every row with time <= t, like SQL ``RANGE ... CURRENT ROW``.

With a delay the right end ``t - d`` is simply closed. At explicit ``queries`` (entity, time) there
is no own row: the right end is closed, or open for ``"exclude"``.

With ``known_at`` (and for the distinct counts of ``lookups``) everything is evaluated "as of
t" (``"exclude"``: as of t - 1 µs): a row counts once ``known_at <= t`` as well (a label that
arrives late); rows whose ``known_at`` is null never count.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from typing import Literal, overload

import numpy as np
import polars as pl

from features.fraud.windows import (
    Prefix,
    Queries,
    Stream,
    interval_sums,
    key_codes,
    micros,
    scatter_back,
)

Current = Literal["include", "exclude", "peers"]
WINDOWS: dict[str, timedelta | None] = {
    "1h": timedelta(hours=1),
    "24h": timedelta(hours=24),
    "7d": timedelta(days=7),
    "30d": timedelta(days=30),
}
_US = timedelta(microseconds=1)
_CHUNK_ROWS = 1 << 20  # rows per group of entities processed together (see _own_windows_by_chunk)


@overload
def us(span: timedelta) -> int: ...
@overload
def us(span: None) -> None: ...
def us(span: timedelta | None) -> int | None:
    """A duration in whole microseconds (None stays None: unbounded)."""
    return None if span is None else span // _US


def _summable(values: pl.Series) -> tuple[np.ndarray, int]:
    """Values to sum and the power of ten they are scaled by (Decimals sum exactly as ints)."""
    if isinstance(values.dtype, pl.Decimal):
        scale = values.dtype.scale or 0
        return (values * 10**scale).cast(pl.Int64).fill_null(0).to_numpy(), scale
    if values.dtype.is_integer() or values.dtype == pl.Boolean:
        return values.cast(pl.Int64).fill_null(0).to_numpy(), 0
    return values.cast(pl.Float64).fill_null(0.0).to_numpy(), 0


def prepare(
    events: pl.DataFrame, queries: pl.DataFrame | None, *, by: str, at: str, current: Current
) -> tuple[pl.DataFrame, np.ndarray, np.ndarray, Queries | None]:
    """Events with a key and a time; their codes and times; the queries, sorted once.

    Shared with ``lookups``: null keys and times are dropped here, and queries with a null time
    belong to no entity.
    """
    if current not in ("include", "exclude", "peers"):
        raise ValueError(f"current must be include, exclude or peers, not {current!r}")
    if events[by].null_count() or events[at].null_count():  # else a copy for nothing
        events = events.filter(pl.col(by).is_not_null() & pl.col(at).is_not_null())
    if queries is None:
        (codes,) = key_codes(events[by])
        return events, codes, micros(events[at]), None
    codes, q_codes = key_codes(events[by], queries[by])
    q_codes = np.where(queries[at].is_null().to_numpy(), -1, q_codes)
    return events, codes, micros(events[at]), Queries(q_codes, micros(queries[at]))


def as_of(
    queries: Queries | None, *, codes: np.ndarray, times: np.ndarray, current: Current
) -> Queries:
    """The queries for "as of t" evaluations (the events themselves by default)."""
    q = Queries(codes, times) if queries is None else queries
    return q.earlier(1) if current == "exclude" else q


def window_aggregates(
    events: pl.DataFrame,
    *,
    by: str,
    at: str,
    windows: Mapping[str, timedelta | None] = WINDOWS,
    sums: Sequence[str] = (),
    queries: pl.DataFrame | None = None,
    delay: timedelta = timedelta(0),
    known_at: str | None = None,
    current: Current = "include",
    prefix: str = "",
) -> pl.DataFrame:
    """Per query (default: per event, in input order): ``{prefix}n_{w}``, ``{prefix}{col}_{w}``.

    ``sums``: integer columns sum exactly into Int64; Decimal columns sum exactly (as scaled
    integers) into Float64; float columns into Float64. Nulls add 0 (and still count as rows).
    ``queries`` needs the columns ``by`` and ``at``; rows with a null key or time are skipped.
    """
    events, codes, times, queries_ = prepare(events, queries, by=by, at=at, current=current)
    values = {col: _summable(events[col]) for col in sums}
    d = us(delay)
    out: dict[str, np.ndarray] = {}
    if known_at is not None:
        queries_ = as_of(queries_, codes=codes, times=times, current=current)
        never = events[known_at].is_null().to_numpy()
        start = np.maximum(times + d, micros(events[known_at]))
        codes = np.where(never, -1, codes)
        for name, span in windows.items():
            end = None if span is None else times + d + us(span)
            for col, (v, _) in [(None, (None, 0)), *values.items()]:
                key = f"{prefix}n_{name}" if col is None else f"{prefix}{col}_{name}"
                out[key] = interval_sums(codes, start, end=end, weights=v, queries=queries_)
        return _frame(pl.DataFrame(out), values, prefix=prefix)

    sums_in = {col: v for col, (v, _) in values.items()}
    if queries_ is None:
        frame = _own_windows_by_chunk(codes, times, sums_in, windows=windows, d=d, current=current)
    else:
        frame = pl.DataFrame(
            _query_windows(
                codes, times, sums_in, queries=queries_, windows=windows, d=d, current=current
            )
        )
    return _frame(frame.select(pl.all().name.prefix(prefix)), values, prefix=prefix)


def _own_windows_by_chunk(
    codes: np.ndarray,
    times: np.ndarray,
    values: dict[str, np.ndarray],
    *,
    windows: Mapping[str, timedelta | None],
    d: int,
    current: Current,
) -> pl.DataFrame:
    """``_own_windows`` on groups of whole entities of about ``_CHUNK_ROWS`` rows each.

    Every step is a sort, a search or a permutation; on arrays that fit in the CPU cache they run
    several times faster than on one array of 10M rows, an entity never spans two chunks, and
    the chunks run on all cores (numpy and polars release the GIL). Results stay in each chunk's
    sorted order until one polars gather puts all of them back in input order.
    """
    k = max(1, -(-codes.size // _CHUNK_ROWS))
    bucket = (codes % k).astype(np.uint16)
    rows = np.argsort(bucket, kind="stable")  # each chunk's rows, in input order
    chunks = np.split(rows, np.cumsum(np.bincount(bucket, minlength=k))[:-1])

    def run(idx: np.ndarray) -> tuple[dict[str, np.ndarray], np.ndarray]:
        sub = {c: v[idx] for c, v in values.items()}
        return _own_windows(codes[idx], times[idx], sub, windows=windows, d=d, current=current)

    with ThreadPoolExecutor(min(k, os.cpu_count() or 1)) as pool:
        results = list(pool.map(run, chunks))
    parts, where, done = [], np.empty(codes.size, np.int64), 0
    for idx, (part, order) in zip(chunks, results, strict=True):
        where[idx[order]] = done + np.arange(idx.size)  # input row -> its result's position
        parts.append(pl.DataFrame(part))
        done += idx.size
    return pl.concat(parts, rechunk=False)[pl.Series(where)]


def _own_windows(
    codes: np.ndarray,
    times: np.ndarray,
    values: dict[str, np.ndarray],
    *,
    windows: Mapping[str, timedelta | None],
    d: int,
    current: Current,
) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """Each event's windows over its own entity's events: ``n_{w}``, ``{col}_{w}``, in the
    stream's (entity, time) order, and that order (``order[i]``: the input row of result i)."""
    stream = Stream(codes, times)
    counter = Prefix(stream)
    prefixes = {col: Prefix(stream, v) for col, v in values.items()}
    if d == 0 and current != "peers":
        hi = np.arange(stream.n) + (1 if current == "include" else 0)
    else:
        hi = stream.own_upto(d)
    out = {}
    for name, span in windows.items():
        lo = stream.row_start if span is None else np.minimum(stream.own_upto(d + us(span)), hi)
        out[f"n_{name}"] = counter.between(None, lo=lo, hi=hi)
        for col, p in prefixes.items():
            out[f"{col}_{name}"] = p.between(None, lo=lo, hi=hi)
    return out, stream.order


def _query_windows(
    codes: np.ndarray,
    times: np.ndarray,
    values: dict[str, np.ndarray],
    *,
    queries: Queries,
    windows: Mapping[str, timedelta | None],
    d: int,
    current: Current,
) -> dict[str, np.ndarray]:
    """Windows of the queries' entities ending at the queries' times, in the queries' order."""
    stream = Stream(codes, times)
    counter = Prefix(stream)
    prefixes = {col: Prefix(stream, v) for col, v in values.items()}
    groups, t = stream.locate(queries.codes), queries.times
    hi = stream.upto(groups, t - d - (1 if current == "exclude" else 0))
    out = {}
    for name, span in windows.items():
        if span is None:
            lo = stream.starts[np.maximum(groups, 0)] if stream.n else hi
        else:
            lo = np.minimum(stream.upto(groups, t - d - us(span)), hi)
        out[f"n_{name}"] = counter.between(groups, lo=lo, hi=hi)
        for col, p in prefixes.items():
            out[f"{col}_{name}"] = p.between(groups, lo=lo, hi=hi)
    return scatter_back(queries.order, out)


def _frame(
    frame: pl.DataFrame, values: dict[str, tuple[np.ndarray, int]], *, prefix: str
) -> pl.DataFrame:
    scaled = [
        pl.col(name).cast(pl.Float64) / 10**scale
        for col, (_, scale) in values.items()
        if scale
        for name in frame.columns
        if name.startswith(f"{prefix}{col}_")
    ]
    counts = [pl.col(n).cast(pl.Int64) for n in frame.columns if n.startswith(f"{prefix}n_")]
    return frame.with_columns(counts + scaled)

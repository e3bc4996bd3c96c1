"""Per-entity lookups as of a time: distinct values in trailing windows, previous and last events.

Same conventions as ``rolling`` (windows ``(t - w, t]``; "as of t" includes events at t).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import timedelta

import numpy as np
import polars as pl

from features.fraud.chunks import entity_chunks
from features.fraud.rolling import WINDOWS, Current, as_of, prepare, us
from features.fraud.windows import (
    FOREVER,
    NULL_TIME,
    Prefix,
    Queries,
    Stream,
    key_codes,
    micros,
)


def previous_row(stream: Stream) -> np.ndarray:
    """Per row (input order), the input index of the entity's previous row in (time, input)
    order; -1 for an entity's first row."""
    prev = np.full(stream.n, -1, np.int64)
    same = stream.group[1:] == stream.group[:-1]
    prev[1:][same] = stream.order[:-1][same]
    return stream.to_input_order(prev)


def last_upto(stream: Stream, queries: Queries) -> np.ndarray:
    """Per query (input order), the input index of the entity's last row with time <= t (in
    (time, input) order); -1 when there is none."""
    if stream.n == 0:
        return np.full(queries.codes.size, -1, np.int64)
    groups = stream.locate(queries.codes)
    pos = stream.upto(groups, queries.times)
    has = (groups >= 0) & (pos > stream.starts[np.maximum(groups, 0)])
    return queries.restore(np.where(has, stream.order[np.maximum(pos - 1, 0)], -1))


class Sightings:
    """Occurrences of (a, b) value pairs: distinct b per a and distinct a per b (devices per user
    and users per device) in any windows.

    A value is in the window (t - w, t] when its latest occurrence up to t is later than t - w.
    Counting occurrences instead: every occurrence up to t, minus those a later occurrence
    within w replaced, minus those that left the window while still the latest. All three are
    running sums over one stream sorted by (entity, time): exact, and no sort per window. Each
    occurrence needs the times of its pair's next and last strictly earlier occurrences; a pair
    belongs to one entity either way round, so both are found group by group of entities
    (``chunks``), next to the sums, and only the three columns are kept in between.
    """

    def __init__(self, events: pl.DataFrame, *, a: str, b: str, at: str) -> None:
        self.a, self.b, self.at = a, b, at
        self.events = events.select(a, b, at)
        if any(self.events[c].null_count() for c in (a, b, at)):  # else a copy for nothing
            self.events = self.events.filter(
                pl.all_horizontal(pl.col(c).is_not_null() for c in (a, b, at))
            )

    def distinct(
        self,
        *,
        per: str,
        windows: Mapping[str, timedelta | None] = WINDOWS,
        queries: pl.DataFrame | None = None,
        current: Current = "include",
        prefix: str = "",
    ) -> pl.DataFrame:
        """Per query (default: per occurrence, in order), the distinct values of the other column
        of the pair per ``per`` entity in each window: ``{prefix}{w}`` (Int64)."""
        _, codes, times, queries_ = prepare(
            self.events, queries, by=per, at=self.at, current=current
        )
        queries_ = as_of(queries_, codes=codes, times=times, current=current)
        (others,) = key_codes(self.events[self.b if per == self.a else self.a])
        out = {name: np.zeros(queries_.codes.size, np.int64) for name in windows}
        for rows, asked in entity_chunks(codes, queries_.codes):
            found = _distinct(
                codes[rows],
                others[rows],
                times[rows],
                queries=(queries_.codes[asked], queries_.times[asked]),
                windows=windows,
            )
            for name, values in found.items():
                out[name][asked] = values
        return pl.DataFrame({f"{prefix}{name}": queries_.restore(v) for name, v in out.items()})


def _distinct(
    codes: np.ndarray,
    others: np.ndarray,
    times: np.ndarray,
    *,
    queries: tuple[np.ndarray, np.ndarray],
    windows: Mapping[str, timedelta | None],
) -> dict[str, np.ndarray]:
    """``Sightings.distinct`` for whole entities: the distinct ``others`` per entity in each
    window, per query (queries sorted by (code, time): every search is a sorted one)."""
    later, earlier = _neighbours(Stream(_pair_codes(codes, others), times))
    # Of several occurrences of a pair at one time only the last counts: it stands for all.
    live = (later > times).astype(np.int64)
    stream = Stream(codes, times)
    groups, q_times = stream.locate(queries[0]), queries[1]
    # Everything in the stream's order once: each window's weights are then sequential work.
    t, live = stream.time, live[stream.order]
    later, earlier = later[stream.order], earlier[stream.order]
    seen = Prefix(stream, live, presorted=True).upto(groups, q_times)
    has_earlier = live * (earlier > NULL_TIME)
    out = {}
    for name, span in windows.items():
        w = FOREVER if span is None else us(span)
        # A repeat within w (gap < w) replaces the previous occurrence: one value, not two.
        repeats = Prefix(stream, has_earlier * (t - earlier < w), presorted=True)
        distinct = seen - repeats.upto(groups, q_times)
        if span is not None:
            expired = Prefix(stream, live * (t + w <= later), presorted=True)
            distinct = distinct - expired.upto(groups, q_times - w)
        out[name] = distinct.astype(np.int64)
    return out


def distinct_in_windows(
    events: pl.DataFrame,
    *,
    by: str,
    of: str,
    at: str,
    windows: Mapping[str, timedelta | None] = WINDOWS,
    queries: pl.DataFrame | None = None,
    current: Current = "include",
    prefix: str = "",
) -> pl.DataFrame:
    """Distinct non-null values of ``of`` per ``by`` entity in each window: ``{prefix}{w}``.

    Per query (default: per event with a non-null ``of``, in order); see ``Sightings``.
    """
    sightings = Sightings(events, a=by, b=of, at=at)
    return sightings.distinct(
        per=by, windows=windows, queries=queries, current=current, prefix=prefix
    )


def _neighbours(pairs: Stream) -> tuple[np.ndarray, np.ndarray]:
    """Per row (input order): the time of the pair's next occurrence (``FOREVER`` if none), and
    of its last occurrence strictly earlier in time (``NULL_TIME`` if none)."""
    t, g = pairs.time, pairs.group
    later = np.full(pairs.n, FOREVER)
    same = g[1:] == g[:-1]
    later[:-1][same] = t[1:][same]
    # Runs of one pair at one time share the time of the occurrence just before the run.
    run_start = np.ones(pairs.n, bool)
    run_start[1:] = ~same | (t[1:] != t[:-1])
    before = np.full(pairs.n, NULL_TIME)
    starts = np.flatnonzero(run_start)
    inside = starts[starts > 0]
    inside = inside[g[inside] == g[inside - 1]]
    before[inside] = t[inside - 1]
    earlier = before[starts][np.cumsum(run_start) - 1]
    return pairs.to_input_order(later), pairs.to_input_order(earlier)


def _pair_codes(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """One non-negative int64 code per (a, b) pair of codes (-1 if either is -1)."""
    width = int(b.max(initial=0)) + 1
    if int(a.max(initial=0)) < (2**62) // width:
        return np.where((a < 0) | (b < 0), -1, a * width + b)
    dense = pl.DataFrame({"a": a, "b": b}).select(pl.struct("a", "b").rank("dense"))
    return np.where((a < 0) | (b < 0), -1, dense.to_series().cast(pl.Int64).to_numpy())


def _entity_codes(
    events: pl.DataFrame, queries: pl.DataFrame | None, *, keys: Sequence[str]
) -> tuple[np.ndarray, np.ndarray | None]:
    """Codes of (possibly composite) entity keys, consistent between events and queries."""
    n = events.height
    codes: np.ndarray | None = None
    for k in keys:
        parts = key_codes(events[k]) if queries is None else key_codes(events[k], queries[k])
        both = np.concatenate(parts)
        codes = both if codes is None else _pair_codes(codes, both)
    assert codes is not None
    return codes[:n], (None if queries is None else codes[n:])


def previous_time(events: pl.DataFrame, *, by: str | Sequence[str], at: str) -> pl.Series:
    """Per event, the time (µs) of the entity's previous event in (time, input) order; null for
    its first. Not an as-of join, which could pick a later row sharing the timestamp."""
    keys = [by] if isinstance(by, str) else list(by)
    codes, _ = _entity_codes(events, None, keys=keys)
    times = micros(events[at])
    ok = np.flatnonzero((codes >= 0) & events[at].is_not_null().to_numpy())
    prev = previous_row(Stream(codes[ok], times[ok]))  # indices into ok
    out = pl.Series("previous", np.zeros(events.height, np.int64))
    out = out.scatter(ok, np.where(prev >= 0, times[ok][np.maximum(prev, 0)], 0))
    return out.set(pl.Series(_rows_without(ok, prev=prev, n=events.height)), None)


def _rows_without(ok: np.ndarray, *, prev: np.ndarray, n: int) -> np.ndarray:
    """Rows that have no previous event (skipped rows included)."""
    missing = np.ones(n, bool)
    missing[ok[prev >= 0]] = False
    return missing


def last_before(
    events: pl.DataFrame,
    queries: pl.DataFrame,
    *,
    by: str | Sequence[str],
    at: str,
    columns: Sequence[str],
    strict: bool = False,
) -> pl.DataFrame:
    """Per query row (in order), ``columns`` of the entity's latest event at (``strict``: before)
    the query's ``at``; nulls where there is none. Ties: the last in input order."""
    keys = [by] if isinstance(by, str) else list(by)
    keep = pl.all_horizontal(pl.col(k).is_not_null() for k in [*keys, at])
    if any(events[c].null_count() for c in [*keys, at]):  # else a copy for nothing
        events = events.filter(keep)
    codes, q_codes = _entity_codes(events, queries, keys=keys)
    assert q_codes is not None
    q_codes = np.where(queries[at].is_null().to_numpy(), -1, q_codes)
    q_times = micros(queries[at]) - (1 if strict else 0)
    times = micros(events[at])
    idx = np.full(queries.height, -1, np.int64)
    for part, asked in entity_chunks(codes, q_codes):  # a stream of the lake costs GBs
        if part.size:
            stream = Stream(codes[part], times[part])
            found = last_upto(stream, Queries(q_codes[asked], q_times[asked]))
            idx[asked] = np.where(found >= 0, part[np.maximum(found, 0)], -1)
    rows = pl.Series("_r", idx).set(pl.Series(idx < 0), None).cast(pl.UInt32)
    return events.select(columns)[rows]


def first_seen(
    events: pl.DataFrame, queries: pl.DataFrame, *, by: str, of: str | None = None, at: str
) -> pl.Series:
    """Per query row (in order), the earliest ``at`` of the events with the query's ``by`` value
    (and ``of`` value, if given); null where there is none or a key is null. A group-by and a
    join, group by group of ``by`` entities (``chunks``), with no copy of the events."""
    codes, q_codes = key_codes(events[by], queries[by])
    codes = np.where(events[at].is_null().to_numpy(), -1, codes)
    others = q_others = None
    if of is not None:
        others, q_others = key_codes(events[of], queries[of])
        codes, q_codes = np.where(others < 0, -1, codes), np.where(q_others < 0, -1, q_codes)
    times = micros(events[at])
    first = np.full(queries.height, NULL_TIME)
    for rows, asked in entity_chunks(codes, q_codes):
        keys, q_keys = codes[rows], q_codes[asked]
        if others is not None and q_others is not None:
            pairs = _pair_codes(
                np.concatenate([keys, q_keys]),
                np.concatenate([others[rows], q_others[asked]]),
            )
            keys, q_keys = pairs[: rows.size], pairs[rows.size :]
        stream = Stream(keys, times[rows])
        groups = stream.locate(q_keys)
        found = stream.time[stream.starts][np.maximum(groups, 0)] if stream.n else groups
        first[asked] = np.where(groups >= 0, found, NULL_TIME)
    out = pl.Series(at, first).set(pl.Series(first == NULL_TIME), None)
    return out.cast(pl.Datetime("us", "UTC")).cast(events.schema[at])

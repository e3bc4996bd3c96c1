"""Trailing-window machinery on numpy: entity-keyed streams searchable in one vectorised call.

A ``Stream`` sorts its rows once by (entity, time, input order) and gives every row a single int64
search key, ``offset[entity] + (time - first[entity]) + 1``, so "how many rows of entity e happened
at or before time x" for millions of (e, x) pairs is one ``np.searchsorted``. A window sum is then
a difference of two running sums at two such positions: O(n log n) in total, whatever the window.

When the per-entity time spans are too long for int64 (millions of entities over years in
microseconds) the stream searches in rank space instead (times replaced by their rank among the
stream's distinct times), which keeps every comparison and costs one ``np.unique``.

Running sums over integer columns are global ``cumsum``s (exact). Over float columns they restart
at each entity, so a row's result depends only on that entity's earlier rows, never on how many
rows other entities have: appending later events leaves every earlier result bit-identical.
"""

from __future__ import annotations

from functools import cached_property
from typing import cast

import numpy as np
import polars as pl

_KEY_LIMIT = 2**62  # search keys beyond this could overflow int64: search in rank space
_CHUNK = 1 << 16  # sorted needles are searched chunk by chunk in a cache-sized slice
FOREVER = np.iinfo(np.int64).max  # an interval end that never comes
NULL_TIME = -(2**62)


def micros(values: pl.Series) -> np.ndarray:
    """Times as int64 microseconds since the epoch (naive datetimes read as UTC); ints as they are.

    Nulls become ``NULL_TIME``, far enough from the int64 limits to shift by any window; callers
    skip those rows.
    """
    dtype = values.dtype
    if dtype == pl.Date:
        values, dtype = values.cast(pl.Datetime("us")), pl.Datetime("us")
    if isinstance(dtype, pl.Datetime):
        return values.dt.epoch("us").fill_null(NULL_TIME).to_numpy()
    if dtype.is_integer():
        return values.cast(pl.Int64).fill_null(NULL_TIME).to_numpy()
    raise TypeError(f"{values.name}: expected a datetime or integer time column, got {dtype}")


def _fits_int62(key: pl.Series) -> bool:
    """An integer key with no value below 0 or from 2**62 on (nulls aside)."""
    # polars types min/max as any Python scalar; on an integer series they are int or None.
    lo, hi = cast("int | None", key.min()), cast("int | None", key.max())
    return (lo or 0) >= 0 and (hi or 0) < 2**62


def key_codes(*keys: pl.Series) -> list[np.ndarray]:
    """The same int64 code for the same entity across several key series; null keys get -1."""
    if all(k.dtype.is_integer() and _fits_int62(k) for k in keys):
        return [k.cast(pl.Int64).fill_null(-1).to_numpy() for k in keys]
    if {type(k.dtype) for k in keys} in ({pl.Categorical}, {pl.Categorical, pl.String}):
        # polars' categories are global (one code per text in every column): no text copied.
        cats = (k.cast(pl.Categorical).to_physical().cast(pl.Int64) for k in keys)
        return [c.fill_null(-1).to_numpy() for c in cats]
    joined = pl.concat([k.cast(pl.String) for k in keys])
    codes = joined.cast(pl.Categorical).to_physical().cast(pl.Int64).fill_null(-1).to_numpy()
    cuts = np.cumsum([len(k) for k in keys])[:-1]
    return np.split(codes, cuts)


def _sort_order(codes: np.ndarray, times: np.ndarray) -> np.ndarray:
    """Permutation to (entity, time, input order)."""
    n = codes.size
    if n < 2:
        return np.arange(n)
    if codes.min() < 0:
        return np.lexsort((times, codes))
    # Time order first (free when the rows come in time order, timsort's best case otherwise),
    # then a stable LSD radix sort on the entity, 16 bits a pass (numpy's stable uint16 sort):
    # faster than lexsort by far on the millions of rows of a lake.
    by_time = None if bool(np.all(times[1:] >= times[:-1])) else np.argsort(times, kind="stable")
    c = codes if by_time is None else codes[by_time]
    order = np.argsort((c & 0xFFFF).astype(np.uint16), kind="stable")
    shift, top = 16, int(c.max())
    while top >> shift:
        digit = ((c[order] >> shift) & 0xFFFF).astype(np.uint16)
        order = order[np.argsort(digit, kind="stable")]
        shift += 16
    return order if by_time is None else by_time[order]


def search(haystack: np.ndarray, needles: np.ndarray) -> np.ndarray:
    """``np.searchsorted(haystack, needles, side="right")``, faster for sorted needles."""
    if needles.size <= _CHUNK:
        return np.searchsorted(haystack, needles, side="right")
    if not bool(np.all(needles[1:] >= needles[:-1])):
        # Random probes miss the cache on every step; sorting them first is cheaper.
        perm = np.argsort(needles)
        out = np.empty(needles.size, np.int64)
        out[perm] = search(haystack, needles[perm])
        return out
    out = np.empty(needles.size, np.int64)
    for s in range(0, needles.size, _CHUNK):
        part = needles[s : s + _CHUNK]
        lo = int(np.searchsorted(haystack, part[0], side="right"))
        hi = int(np.searchsorted(haystack, part[-1], side="right"))
        out[s : s + part.size] = lo + np.searchsorted(haystack[lo:hi], part, side="right")
    return out


class Stream:
    """Rows of an entity-keyed event stream, sorted by (entity, time, input order).

    ``codes`` are non-negative int64 entity codes (see ``key_codes``; rows with code < 0 must be
    dropped by the caller), ``times`` int64 (microseconds, or any integer clock).
    """

    def __init__(self, codes: np.ndarray, times: np.ndarray) -> None:
        codes = np.asarray(codes, dtype=np.int64)
        times = np.asarray(times, dtype=np.int64)
        self.n = n = codes.size
        self.order = _sort_order(codes, times)
        c, t = codes[self.order], times[self.order]
        self.time = t
        bounds = np.flatnonzero(c[1:] != c[:-1]) + 1
        self.starts = np.concatenate([[0], bounds]).astype(np.int64) if n else np.zeros(0, np.int64)
        self.ends = np.concatenate([bounds, [n]]).astype(np.int64) if n else np.zeros(0, np.int64)
        self.sizes = self.ends - self.starts
        self.entities = c[self.starts]
        first, last = t[self.starts], t[self.ends - 1]
        self._ranks: np.ndarray | None = None
        if float(np.sum(last - first, dtype=np.float64)) + 2.0 * first.size >= _KEY_LIMIT:
            self._ranks = np.unique(t)
            first, last = self._scale(first), self._scale(last)
        self.first, self.span = first, last - first
        # Entity e owns keys offset[e] .. offset[e] + span[e] + 1; its rows use all but the lowest,
        # which a query before the entity's first row maps to.
        width = self.span + 2
        self.offset = np.cumsum(width) - width
        self.base = np.repeat(self.offset, self.sizes)
        # repeat, not fancy indexing: per-row copies of per-entity values, written sequentially
        self.key = self._scale(t) + np.repeat(self.offset - first + 1, self.sizes)

    @cached_property
    def group(self) -> np.ndarray:
        """Per row (sorted order), its entity's group index."""
        return np.repeat(np.arange(self.starts.size), self.sizes)

    @cached_property
    def row_start(self) -> np.ndarray:
        """Per row (sorted order), the sorted position of its entity's first row."""
        return np.repeat(self.starts, self.sizes)

    def _scale(self, times: np.ndarray) -> np.ndarray:
        if self._ranks is None:
            return times
        return np.searchsorted(self._ranks, times, side="right").astype(np.int64)

    def locate(self, codes: np.ndarray) -> np.ndarray:
        """Group index of each entity code; -1 for entities without rows."""
        if self.entities.size == 0:
            return np.full(codes.size, -1, np.int64)
        idx = np.minimum(search(self.entities, codes) - 1, self.entities.size - 1)
        idx = np.maximum(idx, 0)
        return np.where(self.entities[idx] == codes, idx, -1)

    def upto(self, groups: np.ndarray, times: np.ndarray) -> np.ndarray:
        """Sorted position just past the group's rows with time <= the query time."""
        if self.n == 0:
            return np.zeros(groups.size, np.int64)
        g = np.maximum(groups, 0)
        rel = np.clip(self._scale(times) - self.first[g], -1, self.span[g])
        return search(self.key, self.offset[g] + rel + 1)

    def own_upto(self, lag: int) -> np.ndarray:
        """Per row (sorted order): ``upto`` its own entity at its own time minus ``lag`` >= 0."""
        if self._ranks is not None:
            return self.upto(self.group, self.time - lag)
        # Shifting a key shifts its time, down to the entity's lowest key: no gathers, no clip.
        return search(self.key, np.maximum(self.key - lag, self.base))

    def to_input_order(self, sorted_values: np.ndarray) -> np.ndarray:
        return scatter_back(self.order, {"v": sorted_values})["v"]


def scatter_back(order: np.ndarray, columns: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Columns in sorted order back to input order (``out[order] = values``)."""
    out = {}
    for name, values in columns.items():
        out[name] = np.empty_like(values)
        out[name][order] = values
    return out


class Prefix:
    """Running sums of one column over a stream; the sum of a group's rows between two positions."""

    def __init__(
        self, stream: Stream, values: np.ndarray | None = None, *, presorted: bool = False
    ) -> None:
        """``values`` per row in input order (``presorted``: already in the stream's order)."""
        self.stream = stream
        self.segmented = False
        if values is None:  # counting
            self.sums = None
            return
        v = np.asarray(values) if presorted else np.asarray(values)[stream.order]
        exact = np.issubdtype(v.dtype, np.integer) or v.dtype == np.bool_
        # A global int64 running sum must not overflow; past that, per-entity float sums.
        if exact and float(np.abs(v).max(initial=0)) * v.size < 2**62:
            self.sums = np.concatenate([[0], np.cumsum(v, dtype=np.int64)])
        else:
            self.segmented = True
            v = np.nan_to_num(v.astype(np.float64), nan=0.0)
            self.sums = (
                pl.DataFrame({"g": stream.group, "v": v})
                .select(pl.col("v").cum_sum().over("g"))
                .to_series()
                .to_numpy()
            )

    def _at(self, groups: np.ndarray | None, pos: np.ndarray) -> np.ndarray:
        assert self.sums is not None
        if not self.segmented:
            return self.sums[pos]
        if groups is None:
            start = self.stream.row_start
        else:
            start = self.stream.starts[np.maximum(groups, 0)]
        return np.where(pos > start, self.sums[np.maximum(pos - 1, 0)], 0.0)

    def between(self, groups: np.ndarray | None, *, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
        """Sum over sorted positions [lo, hi) of each group (0 where the group is -1).

        ``groups=None``: the stream's own rows, in sorted order (every group valid).
        """
        if self.sums is None:
            out = hi - lo
        elif self.stream.n == 0:  # zeros of the sums' dtype (a float column's are floats)
            out = np.zeros(hi.shape, self.sums.dtype)
        else:
            out = self._at(groups, hi) - self._at(groups, lo)
        return out if groups is None else np.where(groups >= 0, out, 0)

    def upto(self, groups: np.ndarray, times: np.ndarray) -> np.ndarray:
        """Sum over the group's rows with time <= the query time."""
        if self.stream.n == 0:
            return np.zeros(groups.size, np.int64 if self.sums is None else self.sums.dtype)
        lo = self.stream.starts[np.maximum(groups, 0)]
        return self.between(groups, lo=lo, hi=self.stream.upto(groups, times))


class Queries:
    """Query points (entity code, time), sorted once so that every search over them is sorted."""

    def __init__(self, codes: np.ndarray, times: np.ndarray) -> None:
        codes, times = np.asarray(codes, np.int64), np.asarray(times, np.int64)
        self.order = _sort_order(np.maximum(codes, -1) + 1, times)
        self.codes = codes[self.order]
        self.times = times[self.order]

    def earlier(self, lag: int) -> Queries:
        """The same queries ``lag`` earlier (same order: no re-sort)."""
        out = object.__new__(Queries)
        out.order, out.codes, out.times = self.order, self.codes, self.times - lag
        return out

    def restore(self, sorted_values: np.ndarray) -> np.ndarray:
        """Values computed in sorted order, back in the queries' input order."""
        return scatter_back(self.order, {"v": sorted_values})["v"]


def interval_sums(
    codes: np.ndarray,
    start: np.ndarray,
    *,
    end: np.ndarray | None,
    weights: np.ndarray | None,
    queries: Queries,
) -> np.ndarray:
    """Sum of ``weights[j]`` over rows j with ``codes[j] == q`` and ``start[j] <= t < end[j]``.

    Each row is "live" on a half-open interval of query times: the general form behind windows with
    label delays (a label counts from when it is known until it leaves the window) and distinct
    counts (an occurrence counts until the pair occurs again or leaves the window). ``end=None``
    (or an end of ``FOREVER``) means live from ``start`` on. Rows with ``start >= end`` never
    count. Results come in the queries' input order.
    """
    codes = np.asarray(codes, np.int64)
    start = np.asarray(start, np.int64)
    keep = codes >= 0
    if end is not None:
        end = np.asarray(end, np.int64)
        keep &= start < end
    w = None if weights is None else np.asarray(weights)[keep]
    q, t = queries.codes, queries.times
    opened = Stream(codes[keep], start[keep])
    out = Prefix(opened, w).upto(opened.locate(q), t)
    if end is not None:
        ends = end[keep] < FOREVER
        closed = Stream(codes[keep][ends], end[keep][ends])
        out = out - Prefix(closed, None if w is None else w[ends]).upto(closed.locate(q), t)
    return queries.restore(out)

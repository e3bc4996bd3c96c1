"""Clock, day window and seeded random streams shared by every simulator module."""

from __future__ import annotations

import zlib
from dataclasses import dataclass
from datetime import UTC, date, datetime

import numpy as np

SECOND = 1_000_000
MINUTE = 60 * SECOND
HOUR = 60 * MINUTE
DAY = 24 * HOUR
NEVER = np.iinfo(np.int64).max


def epoch_us(day: date) -> int:
    return int(datetime(day.year, day.month, day.day, tzinfo=UTC).timestamp()) * SECOND


def stream(seed: int, name: str, *, day: int = -1) -> np.random.Generator:
    """An independent generator per (module, day): more draws in one module shift no other."""
    key = zlib.crc32(name.encode())
    return np.random.default_rng(np.random.SeedSequence([seed, key, day + 1]))


@dataclass(frozen=True)
class Day:
    """One simulated UTC day: [d0, d1) in µs since the epoch; ``end`` closes the whole run."""

    index: int
    d0: int
    d1: int
    end: int
    seed: int

    def rng(self, name: str) -> np.random.Generator:
        return stream(self.seed, name, day=self.index)

    @property
    def weekday(self) -> int:
        return int((self.d0 // DAY + 3) % 7)  # 1970-01-01 was a Thursday


def uniform_times(
    rng: np.random.Generator, n: int, *, lo: np.ndarray | int, hi: np.ndarray | int
) -> np.ndarray:
    """Integer µs times uniformly in [lo, hi) (element-wise)."""
    lo_ = np.asarray(lo, dtype=np.int64)
    span = np.maximum(np.asarray(hi, dtype=np.int64) - lo_, 1)
    return lo_ + (rng.random(n) * span).astype(np.int64)


def exp_delay(rng: np.random.Generator, n: int, *, mean: float) -> np.ndarray:
    """Exponential µs delays: most follow-ups come quickly, a few much later."""
    return (rng.exponential(mean, n)).astype(np.int64) + 1


def pick_weighted(rng: np.random.Generator, weights: np.ndarray, *, n: int) -> np.ndarray:
    """Indices drawn with probability proportional to ``weights`` (cumsum + searchsorted)."""
    cdf = np.cumsum(weights, dtype=np.float64)
    if n == 0 or cdf.size == 0 or cdf[-1] <= 0:
        return np.zeros(0, dtype=np.int64)
    idx = np.searchsorted(cdf, rng.random(n) * cdf[-1], side="right")
    return np.minimum(idx, cdf.size - 1).astype(np.int64)


def csr(keys: np.ndarray, size: int) -> tuple[np.ndarray, np.ndarray]:
    """Stable sort order of ``keys`` and the row pointer over 0..size-1 (group-by for sampling)."""
    order = np.argsort(keys, kind="stable")
    indptr = np.searchsorted(keys[order], np.arange(size + 1))
    return order, indptr


def pick_in_groups(
    rng: np.random.Generator, *, order: np.ndarray, indptr: np.ndarray, groups: np.ndarray
) -> np.ndarray:
    """One random member per requested group; -1 where the group is empty."""
    lo = indptr[groups]
    cnt = indptr[groups + 1] - lo
    pos = lo + (rng.random(groups.size) * cnt).astype(np.int64)
    out = np.full(groups.size, -1, dtype=np.int64)
    ok = cnt > 0
    out[ok] = order[pos[ok]]
    return out

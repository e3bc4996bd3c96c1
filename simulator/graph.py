"""The social graph's state: directed trust edges and follows, each pair at most once."""

from __future__ import annotations

import numpy as np

from simulator.base import csr, pick_in_groups
from simulator.ids import directed_key
from simulator.population import Population


class Graph:
    """Directed trust edges and follows, with a sorted key set to keep each pair unique."""

    def __init__(self, n: int) -> None:
        self.n = n
        self.src = np.zeros(0, np.int64)
        self.dst = np.zeros(0, np.int64)
        self.kind = np.zeros(0, np.int8)
        self.since = np.zeros(0, np.int64)
        self.keys = np.zeros(0, np.int64)
        self.f_src = np.zeros(0, np.int64)
        self.f_dst = np.zeros(0, np.int64)
        self.f_keys = np.zeros(0, np.int64)
        self.index()

    @staticmethod
    def _fresh(keys: np.ndarray, existing: np.ndarray) -> np.ndarray:
        first = np.zeros(keys.size, bool)
        first[np.unique(keys, return_index=True)[1]] = True
        pos = np.minimum(np.searchsorted(existing, keys), max(existing.size - 1, 0))
        seen = existing[pos] == keys if existing.size else np.zeros(keys.size, bool)
        return first & ~seen

    def add_trust(
        self, src: np.ndarray, dst: np.ndarray, *, kind: np.ndarray, since: np.ndarray
    ) -> np.ndarray:
        """Adds the new, non-self edges and returns which of the given ones were accepted."""
        keys = directed_key(src, dst)
        ok = self._fresh(keys, self.keys) & (src != dst)
        self.src = np.concatenate([self.src, src[ok]])
        self.dst = np.concatenate([self.dst, dst[ok]])
        self.kind = np.concatenate([self.kind, np.asarray(kind, np.int8)[ok]])
        self.since = np.concatenate([self.since, since[ok]])
        self.keys = np.sort(np.concatenate([self.keys, keys[ok]]))
        return ok

    def has_trust(self, src: np.ndarray, dst: np.ndarray) -> np.ndarray:
        return ~self._fresh(directed_key(src, dst), self.keys) & (src != dst)

    def remove(self, mask: np.ndarray) -> None:
        keep = ~mask
        self.src, self.dst = self.src[keep], self.dst[keep]
        self.kind, self.since = self.kind[keep], self.since[keep]
        self.keys = np.sort(directed_key(self.src, self.dst))
        self.index()  # positions moved: the adjacency must not point past the arrays

    def add_follow(self, src: np.ndarray, dst: np.ndarray, *, pop: Population) -> np.ndarray:
        keys = directed_key(src, dst)
        ok = self._fresh(keys, self.f_keys) & (src != dst)
        self.f_src = np.concatenate([self.f_src, src[ok]])
        self.f_dst = np.concatenate([self.f_dst, dst[ok]])
        self.f_keys = np.sort(np.concatenate([self.f_keys, keys[ok]]))
        np.add.at(pop.followers, dst[ok], 1)
        return ok

    def index(self) -> None:
        """Per-source adjacency for sampling a neighbour (rebuilt once a day)."""
        self.t_order, self.t_ptr = csr(self.src, self.n)
        self.fo_order, self.fo_ptr = csr(self.f_src, self.n)

    def trusted(self, rng: np.random.Generator, users: np.ndarray) -> np.ndarray:
        j = pick_in_groups(rng, order=self.t_order, indptr=self.t_ptr, groups=users)
        if self.dst.size == 0:
            return np.full(users.size, -1, dtype=np.int64)
        return np.where(j >= 0, self.dst[np.maximum(j, 0)], -1)

    def followee(self, rng: np.random.Generator, users: np.ndarray) -> np.ndarray:
        j = pick_in_groups(rng, order=self.fo_order, indptr=self.fo_ptr, groups=users)
        if self.f_dst.size == 0:
            return np.full(users.size, -1, dtype=np.int64)
        return np.where(j >= 0, self.f_dst[np.maximum(j, 0)], -1)

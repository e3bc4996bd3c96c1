"""Signed, weighted, directed graphs on dense integer ids: the shape every trust algorithm takes.

Node ids from outside (user UUIDs, Bitcoin OTC integers, ...) are mapped once to 0..n-1; edges
are parallel numpy arrays, so a graph of 10M edges costs ~200 MB and converts to a scipy CSR
matrix in one call.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import scipy.sparse as sp

# Edge kinds in a platform trust graph. Signs live in ``weight``: reports and blocks are negative.
RELATIONS = (
    "rating",
    "friend",
    "follow",
    "verified_connection",
    "money",
    "shared_device",
    "shared_ip",
    "report",
    "block",
)


@dataclass(frozen=True)
class SignedGraph:
    ids: np.ndarray  # external id of node i
    src: np.ndarray  # int32, dense
    dst: np.ndarray  # int32, dense
    weight: np.ndarray  # float64 in [-1, 1]; the sign says trust or distrust
    time: np.ndarray | None = None  # float64 unix seconds, if known
    relation: np.ndarray | None = None  # int8 index into RELATIONS, if known

    @property
    def n(self) -> int:
        return len(self.ids)

    @property
    def m(self) -> int:
        return len(self.src)

    @classmethod
    def from_edges(
        cls,
        src: np.ndarray,
        dst: np.ndarray,
        *,
        weight: np.ndarray,
        time: np.ndarray | None = None,
        relation: np.ndarray | None = None,
        ids: np.ndarray | None = None,
    ) -> SignedGraph:
        """Map external ids to 0..n-1 (sorted order; ``ids`` adds nodes without edges)."""
        src, dst = np.asarray(src), np.asarray(dst)
        every = np.concatenate([src, dst] + ([np.asarray(ids)] if ids is not None else []))
        nodes, dense = np.unique(every, return_inverse=True)
        dense = dense.astype(np.int32)
        return cls(
            ids=nodes,
            src=dense[: len(src)],
            dst=dense[len(src) : 2 * len(src)],
            weight=np.asarray(weight, dtype=np.float64),
            time=None if time is None else np.asarray(time, dtype=np.float64),
            relation=None if relation is None else np.asarray(relation, dtype=np.int8),
        )

    def index_of(self, external: np.ndarray) -> np.ndarray:
        """Dense ids of external ids; -1 where the graph does not know the node."""
        external = np.asarray(external)
        pos = np.searchsorted(self.ids, external)
        pos = np.clip(pos, 0, max(self.n - 1, 0))
        found = self.n > 0 and (self.ids[pos] == external)
        return np.where(found, pos, -1)

    def adjacency(self, *, sign: int = 0, transpose: bool = False) -> sp.csr_matrix:
        """n x n CSR of edge weights (summed if repeated); ``sign`` +1 / -1 keeps one sign only,
        as magnitudes."""
        w = self.weight
        keep = np.ones(self.m, bool) if sign == 0 else (np.sign(w) == sign)
        rows, cols = (self.dst, self.src) if transpose else (self.src, self.dst)
        values = w[keep] if sign == 0 else np.abs(w[keep])
        return sp.csr_matrix((values, (rows[keep], cols[keep])), shape=(self.n, self.n))

    def select(self, keep: np.ndarray) -> SignedGraph:
        """The same nodes with only the edges in ``keep`` (a boolean mask)."""
        return replace(
            self,
            src=self.src[keep],
            dst=self.dst[keep],
            weight=self.weight[keep],
            time=None if self.time is None else self.time[keep],
            relation=None if self.relation is None else self.relation[keep],
        )

    def without_incoming(self, nodes: np.ndarray) -> SignedGraph:
        """Hide every edge into ``nodes`` (dense ids): the inductive evaluation protocol."""
        return self.select(~np.isin(self.dst, nodes))

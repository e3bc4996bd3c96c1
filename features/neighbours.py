"""Neighbour aggregation over any edge list: each node's neighbours' features, summed up.

The same operation serves every relation a platform has (shared devices and IPs, money flows, trust
edges) and outside attributed graphs: edges in, a node feature frame in, one row per node out with
the mean/max/sum/... of its neighbours' values and how many of them carry a flag. On fraud graphs
tree ensembles fed such aggregates match or beat graph neural networks (GADBench, NeurIPS 2023),
so this is the platform's way of letting the graph into a model.

Two layers:
- ``adjacency`` and ``aggregate``: scipy CSR and numpy arrays, for callers that already hold
  dense ids 0..n-1 (fast, no frames);
- ``neighbour_features``: polars frames keyed by any node id (strings, UUIDs, integers).

Conventions: row i of an adjacency lists the nodes whose values reach i. Self-loops are dropped
(a node is not its own neighbour). Without weights, repeated edges count once; with weights, they
add up. A node without neighbours gets 0 for ``sum`` and counts, NaN for the other statistics.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

import numpy as np
import polars as pl
import scipy.sparse as sp

Direction = Literal["both", "in", "out"]
STATISTICS = ("sum", "mean", "max", "min", "std")
# max/min materialise (edges x columns) values; columns go in blocks to keep that near 100 MB.
_BLOCK_VALUES = 12_000_000


def adjacency(
    src: np.ndarray,
    dst: np.ndarray,
    *,
    n: int,
    weight: np.ndarray | None = None,
    direction: Direction = "both",
) -> sp.csr_matrix:
    """The n x n matrix whose row i holds i's neighbours (and the edge weights).

    ``direction``: "out" aggregates over the nodes i points to (edges i -> j), "in" over those
    pointing to i (j -> i), "both" over either (the choice for undirected edges).
    """
    src, dst = np.asarray(src, dtype=np.int64), np.asarray(dst, dtype=np.int64)
    if src.shape != dst.shape or src.ndim != 1:
        raise ValueError(f"src and dst must be 1-d and equally long: {src.shape}, {dst.shape}")
    if len(src) and (min(src.min(), dst.min()) < 0 or max(src.max(), dst.max()) >= n):
        raise ValueError(f"node ids must lie in 0..{n - 1}")
    w = np.ones(len(src)) if weight is None else np.asarray(weight, dtype=np.float64)
    if w.shape != src.shape:
        raise ValueError(f"weight must have one value per edge: {w.shape} != {src.shape}")
    keep = src != dst
    src, dst, w = src[keep], dst[keep], w[keep]
    if direction == "out":
        rows, cols = src, dst
    elif direction == "in":
        rows, cols = dst, src
    elif direction == "both":
        rows, cols, w = np.concatenate([src, dst]), np.concatenate([dst, src]), np.tile(w, 2)
    else:
        raise ValueError(f"direction must be both, in or out, not {direction!r}")
    matrix = sp.csr_matrix((w, (rows, cols)), shape=(n, n))  # duplicates add up
    matrix.sum_duplicates()
    if weight is None:
        matrix.data[:] = 1.0  # unweighted: an edge seen twice is still one neighbour
    matrix.eliminate_zeros()
    return matrix


def _extreme(adj: sp.csr_matrix, values: np.ndarray, *, op: np.ufunc) -> np.ndarray:
    n, k = adj.shape[0], values.shape[1]
    out = np.full((n, k), np.nan)
    present = adj.copy()
    present.eliminate_zeros()
    counts = np.diff(present.indptr)
    rows = np.flatnonzero(counts)
    if len(rows) == 0:
        return out
    starts = present.indptr[rows]  # empty rows between two starts add nothing, so reduceat fits
    step = max(1, _BLOCK_VALUES // max(1, present.nnz))
    for lo in range(0, k, step):
        gathered = values[present.indices, lo : lo + step]
        out[rows, lo : lo + step] = op.reduceat(gathered, starts, axis=0)
    return out


def aggregate(
    adj: sp.csr_matrix, values: np.ndarray, *, how: Sequence[str] = ("mean",)
) -> dict[str, np.ndarray]:
    """{statistic: (n, k) array} of each node's neighbours' ``values`` (n x k, or n).

    ``sum``, ``mean`` and ``std`` are weighted by the adjacency's entries; ``max`` and ``min``
    take every neighbour with a non-zero weight alike.
    """
    unknown = set(how) - set(STATISTICS)
    if unknown:
        raise ValueError(f"unknown statistics {sorted(unknown)}; choose from {STATISTICS}")
    x = np.asarray(values, dtype=np.float64)
    x = x[:, None] if x.ndim == 1 else x
    if x.shape[0] != adj.shape[1]:
        raise ValueError(f"values have {x.shape[0]} rows for {adj.shape[1]} nodes")
    adj = sp.csr_matrix(adj, dtype=np.float64)
    total = np.asarray(adj.sum(axis=1)).ravel()
    with np.errstate(invalid="ignore", divide="ignore"):
        inverse = np.where(total != 0, 1.0 / total, np.nan)[:, None]
        out: dict[str, np.ndarray] = {}
        if {"sum", "mean", "std"} & set(how):
            sums = np.asarray(adj @ x)
            out |= {"sum": sums, "mean": sums * inverse}
        if "std" in how:
            second = np.asarray(adj @ (x * x)) * inverse
            out["std"] = np.sqrt(np.maximum(second - out["mean"] ** 2, 0.0))
    if "max" in how:
        out["max"] = _extreme(adj, x, op=np.maximum)
    if "min" in how:
        out["min"] = _extreme(adj, x, op=np.minimum)
    return {name: out[name] for name in how}


def neighbour_features(
    edges: pl.DataFrame,
    nodes: pl.DataFrame,
    *,
    key: str = "node",
    src: str = "src",
    dst: str = "dst",
    columns: Sequence[str] | None = None,
    how: Sequence[str] = ("mean", "max", "sum"),
    weight: str | None = None,
    direction: Direction = "both",
    flags: Sequence[str] = (),
    prefix: str = "nbr",
) -> pl.DataFrame:
    """One row per row of ``nodes`` (same order): ``key``, ``{prefix}_count`` (distinct
    neighbours), ``{prefix}_{statistic}_{column}`` for each numeric column and statistic, and
    ``{prefix}_{flag}_count`` / ``{prefix}_{flag}_share`` for each boolean column in ``flags``.

    ``edges`` holds ``src`` and ``dst`` node ids (optionally a ``weight`` column); edges touching
    a node absent from ``nodes`` are ignored, so a snapshot's edges may reach beyond its users.
    ``columns`` defaults to every numeric column of ``nodes`` other than the key and flags.
    """
    if nodes[key].is_duplicated().any():
        raise ValueError(f"nodes has repeated {key!r} values")
    flags = list(flags)
    if columns is None:
        columns = [
            c for c, t in nodes.schema.items() if c != key and c not in flags and t.is_numeric()
        ]
    index = nodes.select(pl.col(key), pl.int_range(pl.len(), dtype=pl.Int64).alias("_i"))

    def dense(column: str) -> pl.Expr:
        return pl.col(column).replace_strict(index[key], index["_i"], default=None)

    picked = [dense(src).alias("_s"), dense(dst).alias("_d")]
    if weight is not None:
        picked.append(pl.col(weight).cast(pl.Float64).alias("_w"))
    ids = edges.select(picked).drop_nulls(["_s", "_d"])
    n = nodes.height
    w = ids["_w"].to_numpy() if weight is not None else None
    adj = adjacency(ids["_s"].to_numpy(), ids["_d"].to_numpy(), n=n, weight=w, direction=direction)
    binary = adj.copy()
    binary.data[:] = 1.0
    count = np.asarray(binary.sum(axis=1)).ravel()
    out = {key: nodes[key], f"{prefix}_count": count.astype(np.int64)}
    if columns:
        x = nodes.select(pl.col(c).cast(pl.Float64) for c in columns).to_numpy()
        for stat, matrix in aggregate(adj, x, how=how).items():
            out |= {f"{prefix}_{stat}_{c}": matrix[:, j] for j, c in enumerate(columns)}
    for flag in flags:
        hits = binary @ nodes[flag].fill_null(False).cast(pl.Float64).to_numpy()
        out[f"{prefix}_{flag}_count"] = hits.astype(np.int64)
        with np.errstate(invalid="ignore", divide="ignore"):
            out[f"{prefix}_{flag}_share"] = np.where(count > 0, hits / count, np.nan)
    return pl.DataFrame(out)

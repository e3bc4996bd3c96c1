"""Seeded trust propagation: personalised PageRank from trusted seeds (TrustRank / SybilRank).

A random surfer starts at a seed, follows positive trust edges with probability ``damping``
(choosing an out-edge in proportion to its weight) and jumps back to a seed otherwise; a node
without positive out-edges sends its surfer back to the seeds (the TrustRank, networkx and
igraph convention). The landing probabilities sum to 1. SybilRank's two ideas sit on top in
:func:`seeded_trust`:

- early termination: about log2(n) steps keep trust from soaking through the few attack edges
  into a Sybil region before it has spread over the honest region;
- degree normalisation: a node's landing probability grows with how many endorsements lead to
  it, so the score divides it by the node's positive in-strength (trust per endorsement).

Both run on one scipy CSR matrix, ``damping * P^T`` over positive edges, in float64. The
converged PageRank (:func:`personalized_pagerank`) uses block Gauss-Seidel sweeps: using the
fresh values of earlier blocks within a sweep needed half the passes over the edges of power
iteration on the 1M-node benchmark graph (47 against 91) and a third fewer on random graphs.
The early-terminated walk (:func:`power_iterate`) keeps plain power steps, because its
meaning *is* "where the surfer is after k steps".
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from features.trust_engine.graph import SignedGraph


@dataclass(frozen=True)
class Propagation:
    scores: np.ndarray  # float64, n; landing probabilities (sum 1) or their degree-normalised form
    iterations: int  # power steps, or Gauss-Seidel sweeps
    delta: float  # L1 change of the last step (relative, for the linear solve)
    converged: bool


def walk_matrix(graph: SignedGraph, *, damping: float) -> sp.csr_matrix:
    """``damping * P^T`` over positive edges: row v holds the chances of stepping into v.

    Negative and zero edges never carry trust; repeated edges add up. A dangling node (no
    positive out-edge) has an empty column: its mass is missing from ``walk @ x`` and goes
    back to the seeds.
    """
    walk = graph.adjacency(sign=+1, transpose=True)
    strength = np.bincount(walk.indices, weights=walk.data, minlength=graph.n)
    # Scaling the stored values in place avoids building a diagonal matrix and a product.
    walk.data *= damping / strength[walk.indices]
    return walk


def reset_vector(n: int, seeds: np.ndarray) -> np.ndarray:
    """The restart distribution: uniform over seed ids or a mask, or proportional to weights."""
    seeds = np.asarray(seeds)
    reset = np.zeros(n)
    if seeds.dtype == bool:
        reset[seeds] = 1.0
    elif seeds.dtype.kind == "f" and len(seeds) == n:
        reset[:] = np.clip(seeds, 0.0, None)  # a weighted prior over all nodes
    else:
        np.add.at(reset, seeds.astype(np.int64), 1.0)
    total = reset.sum()
    if total <= 0:
        raise ValueError("no seed: personalised PageRank needs at least one seed node")
    return reset / total


def power_iterate(
    walk: sp.csr_matrix, reset: np.ndarray, *, tol: float, max_iter: int
) -> Propagation:
    """Iterate ``x <- walk @ x + (1 - sum(walk @ x)) * reset`` from ``x = reset``.

    The mass missing after a step is the restart share plus what dangling nodes held; giving
    all of it to ``reset`` keeps ``x`` a distribution without a dense dangling term.
    """
    # Seeds are few: add the restart mass at their positions only, and reuse one scratch
    # buffer for the change, so a step is one product and a few passes over n floats.
    seeds = np.flatnonzero(reset)
    share = reset[seeds]
    x = reset.copy()
    scratch = np.empty_like(x)
    delta, steps = math.inf, 0
    while steps < max_iter and delta >= tol:
        y = walk @ x
        y[seeds] += (1.0 - y.sum()) * share
        np.subtract(y, x, out=scratch)
        delta = float(np.abs(scratch, out=scratch).sum())
        x, steps = y, steps + 1
    return Propagation(scores=x, iterations=steps, delta=delta, converged=delta < tol)


def solve_pagerank(
    walk: sp.csr_matrix, reset: np.ndarray, *, tol: float, max_iter: int, blocks: int = 16
) -> Propagation:
    """Stationary personalised PageRank by block Gauss-Seidel sweeps.

    Rows are cut into ``blocks`` contiguous ranges (views of the CSR arrays, no copy); each
    block is updated from the latest values of all the others, with the restart mass of the
    sweep (the share of ``x`` that does not stay on a positive edge) computed once at its
    start, and ``x`` is renormalised after each sweep. Stops when a sweep changes ``x`` by
    less than ``tol`` (L1).
    """
    n = walk.shape[0]
    stays = np.bincount(walk.indices, weights=walk.data, minlength=n)  # damping, or 0 if dangling
    cuts = np.linspace(0, n, min(blocks, max(n, 1)) + 1).astype(np.int64)
    parts = []
    for lo, hi in itertools.pairwise(cuts):
        start, stop = walk.indptr[lo], walk.indptr[hi]
        rows = sp.csr_matrix(
            (walk.data[start:stop], walk.indices[start:stop], walk.indptr[lo : hi + 1] - start),
            shape=(hi - lo, n),
        )
        parts.append((lo, hi, rows))
    x = reset.copy()
    before = np.empty_like(x)
    delta, sweeps = math.inf, 0
    while sweeps < max_iter and delta >= tol:
        before[:] = x
        restart = 1.0 - float(stays @ x)
        for lo, hi, rows in parts:
            block = rows @ x
            block += restart * reset[lo:hi]
            x[lo:hi] = block
        x /= x.sum()
        np.subtract(x, before, out=before)
        delta = float(np.abs(before, out=before).sum())
        sweeps += 1
    return Propagation(scores=x, iterations=sweeps, delta=delta, converged=delta < tol)


def personalized_pagerank(
    graph: SignedGraph,
    seeds: np.ndarray,
    *,
    damping: float = 0.85,
    tol: float = 1e-10,
    max_iter: int = 1000,
) -> Propagation:
    """Plain, converged personalised PageRank over positive edges (networkx and igraph's
    definition); ``seeds`` are dense ids, a boolean mask or a non-negative weight per node."""
    walk = walk_matrix(graph, damping=damping)
    return solve_pagerank(walk, reset_vector(graph.n, seeds), tol=tol, max_iter=max_iter)


def seeded_trust(
    graph: SignedGraph,
    seeds: np.ndarray,
    *,
    damping: float = 0.85,
    max_iter: int | None = None,
    tol: float = 1e-9,
) -> Propagation:
    """TrustRank / SybilRank trust: early-terminated personalised PageRank from ``seeds``, divided
    by positive in-strength (a node nobody endorses keeps only its own seed mass).

    Meaning: the share of the seeds' trust that reaches the node per endorsement it received,
    after ``max_iter`` walk steps (default ceil(log2 n), SybilRank's O(log n)) or earlier if a
    step changes less than ``tol``. Range [0, 1]; 0 for nodes the seeds cannot reach over
    positive edges in that many steps.
    """
    steps = max_iter if max_iter is not None else max(1, math.ceil(math.log2(max(graph.n, 2))))
    walk = walk_matrix(graph, damping=damping)
    result = power_iterate(walk, reset_vector(graph.n, seeds), tol=tol, max_iter=steps)
    pos = graph.weight > 0
    in_strength = np.bincount(graph.dst[pos], weights=graph.weight[pos], minlength=graph.n)
    normalised = result.scores / np.maximum(in_strength, 1.0)
    return Propagation(
        scores=normalised,
        iterations=result.iterations,
        delta=result.delta,
        converged=result.converged,
    )

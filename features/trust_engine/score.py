"""One call from a signed graph to every per-node trust score, and the combined ``trust``.

Columns of :func:`score_graph` (n rows, one per node):

- ``seed`` (bool): a seed of the propagation (given, or :func:`default_seeds`).
- ``propagated_trust`` (>= 0, sums to at most 1 over nodes before normalisation): SybilRank-style
  early-terminated personalised PageRank from the seeds over positive edges, divided by the
  node's positive in-strength. 0 when the seeds cannot reach the node.
- ``reach`` [0, 1]: ``x / (1 + x)`` with ``x`` the propagated trust over its median among reached
  nodes: 0 unreachable, 0.5 typical, towards 1 well inside the seeds' region.
- ``fairness`` [0, 1] and ``goodness`` [-1, 1]: REV2 (see :mod:`features.trust_engine.rev2`); nodes
  that rate no one get the median fairness, nodes nobody rates the median goodness.
- ``evidence_positive``, ``evidence_negative`` (>= 0) and ``evidence_trust`` [0, 1]: see
  :mod:`features.trust_engine.evidence`.
- ``out_degree``, ``in_degree``, ``negative_given``, ``negative_received``: counts.
- ``trust`` [0, 1], higher is more trustworthy:
  ``(1 - reach_weight) * evidence_trust + reach_weight * reach`` (default weight 0.25). A node
  with no edge at all (and not a seed) gets ``0.5 * (1 - reach_weight) = 0.375``: unknown,
  below anyone with a positive record, above anyone with a negative one.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np
import polars as pl

from features.trust_engine.evidence import DAY, evidence_discount, evidence_trust
from features.trust_engine.graph import SignedGraph
from features.trust_engine.propagation import seeded_trust
from features.trust_engine.rev2 import rev2
from features.trust_engine.seeds import default_seeds


@dataclass(frozen=True)
class TrustConfig:
    damping: float = 0.85  # propagation: probability of following an edge rather than restarting
    max_iter: int | None = None  # propagation steps; None: ceil(log2 n), SybilRank's O(log n)
    alpha: float = 1.0  # REV2 cold-start pseudo-ratings of a rater, at the median fairness
    beta: float = 1.0  # REV2 cold-start pseudo-ratings of a ratee, at the median goodness
    window_days: float | None = 30.0  # burst window of the evidence; None: every rating counts
    reach_weight: float = 0.25  # share of the combined trust that comes from the seeds' reach


def reach(propagated: np.ndarray) -> np.ndarray:
    """Propagated trust squashed to [0, 1] relative to the median reached node."""
    reached = propagated > 0
    if not reached.any():
        return np.zeros_like(propagated)
    x = propagated / np.median(propagated[reached])
    return x / (1.0 + x)


def _propagated(graph: SignedGraph, seeds: np.ndarray, *, config: TrustConfig) -> np.ndarray:
    if not len(seeds):
        return np.zeros(graph.n)
    return seeded_trust(graph, seeds, damping=config.damping, max_iter=config.max_iter).scores


def score_graph(
    graph: SignedGraph, *, seeds: np.ndarray | None = None, config: TrustConfig | None = None
) -> pl.DataFrame:
    """Every score of every node of ``graph`` (see the module docstring for meanings and ranges).

    ``seeds`` are dense ids of trusted nodes (on the platform: verified or long-standing users);
    without them, :func:`features.trust_engine.seeds.default_seeds` picks them without labels.
    """
    config = config or TrustConfig()
    n = graph.n
    window = None if config.window_days is None else config.window_days * DAY
    if seeds is None:
        seeds = default_seeds(graph)
    seeds = np.asarray(seeds, dtype=np.int64)
    # The burst discount (a sort of every rating) and the propagation need no REV2 score: they
    # run on a second core while REV2 runs here (numpy, scipy and polars release the GIL in
    # their loops). The same operations on the same inputs: the scores are the serial ones.
    with ThreadPoolExecutor(max_workers=1) as pool:
        discount = pool.submit(evidence_discount, graph, window=window)
        spread = pool.submit(_propagated, graph, seeds, config=config)
        r2 = rev2(graph, alpha=config.alpha, beta=config.beta)
        evidence = evidence_trust(graph, r2.reliability, window=window, discount=discount.result())
        propagated = spread.result()
    reached = reach(propagated)
    w = config.reach_weight
    trust = np.clip((1.0 - w) * evidence.trust + w * reached, 0.0, 1.0)
    is_seed = np.zeros(n, dtype=bool)
    is_seed[seeds] = True
    negative = graph.weight < 0
    return pl.DataFrame(
        {
            "node_id": graph.ids,
            "trust": trust,
            "evidence_trust": evidence.trust,
            "reach": reached,
            "propagated_trust": propagated,
            "fairness": r2.fairness,
            "goodness": r2.goodness,
            "evidence_positive": evidence.positive,
            "evidence_negative": evidence.negative,
            "seed": is_seed,
            "out_degree": np.bincount(graph.src, minlength=n),
            "in_degree": np.bincount(graph.dst, minlength=n),
            "negative_given": np.bincount(graph.src[negative], minlength=n),
            "negative_received": np.bincount(graph.dst[negative], minlength=n),
        }
    )

"""Label-free seed choice for graphs that come without verified users.

On the platform the seeds are given (verified or long-standing users). For an external rating
graph the default takes the nodes a cautious operator would vouch for by hand: long-standing,
well rated and endorsed by many distinct raters. No label is read.
"""

from __future__ import annotations

import math

import numpy as np

from features.trust_engine.graph import SignedGraph


def default_seeds(
    graph: SignedGraph, *, k: int | None = None, max_negative_share: float = 0.1
) -> np.ndarray:
    """Dense ids of up to ``k`` (default ceil(sqrt(n))) seeds, best first.

    A node qualifies when at most ``max_negative_share`` of the ratings it received are negative
    and, when edge times are known, it was first seen in the earlier half of all first-seen
    times. Qualified nodes are ranked by net endorsements (positive minus negative raters);
    ties go to the older node, then the smaller id, so the choice is deterministic.
    """
    n = graph.n
    k = k if k is not None else max(1, math.ceil(math.sqrt(n)))
    pos = np.bincount(graph.dst[graph.weight > 0], minlength=n)
    neg = np.bincount(graph.dst[graph.weight < 0], minlength=n)
    received = pos + neg
    ok = (received > 0) & (neg <= max_negative_share * received)
    first = np.zeros(n)
    if graph.time is not None and graph.m:
        first = np.full(n, np.inf)
        np.minimum.at(first, graph.src, graph.time)
        np.minimum.at(first, graph.dst, graph.time)
        ok &= first <= np.median(first[np.isfinite(first)])
    net = (pos - neg).astype(np.float64)
    ok &= net > 0
    candidates = np.flatnonzero(ok)
    order = np.lexsort((candidates, first[candidates], -net[candidates]))
    return candidates[order[:k]].astype(np.int64)

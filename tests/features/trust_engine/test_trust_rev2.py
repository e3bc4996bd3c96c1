"""REV2 against a plain loop-per-node transcription of the paper's equations."""

from __future__ import annotations

import numpy as np
import pytest

from features.trust_engine.graph import SignedGraph
from features.trust_engine.rev2 import Rev2, rev2

# A tiny market: 0-2 are honest and agree, 3 praises the scammer 4, everyone else pans 4;
# 5 is rated once and never rates, 6 rates once; 7 has no edge at all.
EDGES = [
    (0, 1, 0.8),
    (1, 0, 0.9),
    (2, 0, 1.0),
    (2, 1, 0.7),
    (0, 4, -1.0),
    (1, 4, -0.8),
    (2, 4, -0.9),
    (3, 4, 1.0),
    (4, 3, 1.0),
    (3, 0, -1.0),
    (0, 5, 0.5),
    (6, 2, 0.6),
]


def _graph() -> SignedGraph:
    src, dst, w = (np.array(c) for c in zip(*EDGES, strict=True))
    return SignedGraph.from_edges(src, dst, weight=w, ids=np.arange(8))


def _reference(alpha: float, beta: float, iterations: int) -> tuple[dict, dict]:
    nodes = range(8)
    out = {u: [(v, w) for a, v, w in EDGES if a == u] for u in nodes}
    into = {v: [(u, w) for u, b, w in EDGES if b == v] for v in nodes}
    fair, good = dict.fromkeys(nodes, 1.0), dict.fromkeys(nodes, 1.0)
    rel = {(u, v): 1.0 for u, v, _ in EDGES}
    for _ in range(iterations):
        mu_g = float(np.median([good[v] for v in nodes if into[v]]))
        for v in nodes:
            total = beta * mu_g + sum(rel[(u, v)] * w for u, w in into[v])
            mean = total / (beta + len(into[v])) if beta + len(into[v]) else mu_g
            good[v] = min(1.0, max(-1.0, mean))
        for u, v, w in EDGES:
            rel[(u, v)] = (fair[u] + (1 - abs(w - good[v]) / 2)) / 2
        mu_f = float(np.median([fair[u] for u in nodes if out[u]]))
        for u in nodes:
            total = alpha * mu_f + sum(rel[(u, v)] for v, _ in out[u])
            mean = total / (alpha + len(out[u])) if alpha + len(out[u]) else mu_f
            fair[u] = min(1.0, max(0.0, mean))
    return fair, good


@pytest.mark.parametrize(("alpha", "beta"), [(1.0, 1.0), (2.0, 0.5), (0.0, 0.0)])
def test_matches_the_reference(alpha: float, beta: float) -> None:
    fair, good = _reference(alpha, beta, iterations=60)
    ours = rev2(_graph(), alpha=alpha, beta=beta, tol=0.0, max_iter=60)
    np.testing.assert_allclose(ours.fairness, [fair[u] for u in range(8)], atol=1e-12)
    np.testing.assert_allclose(ours.goodness, [good[v] for v in range(8)], atol=1e-12)


def test_fixed_point_and_ranges() -> None:
    model = Rev2(tol=1e-12, max_iter=500).fit(_graph())
    assert model.converged_
    f, g, r = model.fairness_, model.goodness_, model.reliability_
    assert f.min() >= 0 and f.max() <= 1 and g.min() >= -1 and g.max() <= 1
    assert r.min() >= 0 and r.max() <= 1
    graph = _graph()
    again = (f[graph.src] + 1 - np.abs(graph.weight - g[graph.dst]) / 2) / 2
    np.testing.assert_allclose(r, again, atol=1e-10)
    assert g[4] < 0 < g[0]  # the scammer is bad, the honest hub good
    assert f[3] < f[0]  # praising the scammer and panning the hub is unfair
    # Cold start: 5 rates no one, 7 has no edge: both carry exactly the median fairness prior.
    assert f[5] == f[7] == pytest.approx(np.median(f[np.bincount(graph.src, minlength=8) > 0]))

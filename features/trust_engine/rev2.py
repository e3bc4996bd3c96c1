"""REV2 (Kumar et al., WSDM 2018): fairness of raters, goodness of ratees, reliability of ratings.

Each node plays two roles: as a rater it has a fairness F(u) in [0, 1], as a ratee a goodness
G(v) in [-1, 1]; each rating (u, v, w) with w in [-1, 1] has a reliability R(u, v) in [0, 1].
They define one another (the paper's equations, without the optional BIRDNEST behaviour terms):

    G(v)   = (beta * mu_G + sum_{u -> v} R(u, v) * w(u, v)) / (beta + in(v))
    R(u,v) = (gamma1 * F(u) + gamma2 * (1 - |w(u, v) - G(v)| / 2)) / (gamma1 + gamma2)
    F(u)   = (alpha * mu_F + sum_{u -> v} R(u, v)) / (alpha + out(u))

``alpha`` and ``beta`` are the cold-start priors: ``alpha`` pseudo-ratings at the median
fairness ``mu_F`` of the raters, ``beta`` pseudo-ratings at the median goodness ``mu_G`` of the
ratees (as in the authors' code; the paper allows mean or median), so a user with one rating is
pulled towards the typical user and one with none gets exactly the prior. Iterated from
F = G = R = 1 until no value moves by more than ``tol``; every step is a handful of
``np.bincount`` passes over the edge arrays.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from features.trust_engine.graph import SignedGraph


@dataclass(frozen=True)
class Rev2Scores:
    fairness: np.ndarray  # n, [0, 1]; the prior mu_F for nodes that rate no one
    goodness: np.ndarray  # n, [-1, 1]; the prior mu_G for nodes nobody rates
    reliability: np.ndarray  # m, [0, 1], parallel to the graph's edges
    iterations: int
    converged: bool


class Rev2:
    """scikit-learn style: set the priors, ``fit(graph)``, read ``fairness_``, ``goodness_``,
    ``reliability_`` and ``n_iter_``."""

    def __init__(
        self,
        *,
        alpha: float = 1.0,
        beta: float = 1.0,
        gamma1: float = 1.0,
        gamma2: float = 1.0,
        tol: float = 1e-6,
        max_iter: int = 200,
    ) -> None:
        self.alpha, self.beta = alpha, beta
        self.gamma1, self.gamma2 = gamma1, gamma2
        self.tol, self.max_iter = tol, max_iter

    def fit(self, graph: SignedGraph) -> Rev2:
        scores = rev2(
            graph,
            alpha=self.alpha,
            beta=self.beta,
            gamma1=self.gamma1,
            gamma2=self.gamma2,
            tol=self.tol,
            max_iter=self.max_iter,
        )
        self.fairness_, self.goodness_ = scores.fairness, scores.goodness
        self.reliability_, self.n_iter_ = scores.reliability, scores.iterations
        self.converged_ = scores.converged
        return self


def _ratio(num: np.ndarray, den: np.ndarray, *, default: float) -> np.ndarray:
    # With a zero prior, a node without ratings has no evidence at all: it takes the median.
    return np.divide(num, den, out=np.full(len(num), default), where=den > 0)


def _max_change(new: np.ndarray, old: np.ndarray, scratch: np.ndarray) -> float:
    np.subtract(new, old, out=scratch)
    return float(np.abs(scratch, out=scratch).max(initial=0.0))


def rev2(
    graph: SignedGraph,
    *,
    alpha: float = 1.0,
    beta: float = 1.0,
    gamma1: float = 1.0,
    gamma2: float = 1.0,
    tol: float = 1e-6,
    max_iter: int = 200,
) -> Rev2Scores:
    """The fixed point of the three REV2 equations on ``graph`` (see the module docstring).

    Every per-edge step writes into two preallocated edge-sized buffers: each fresh 3M-edge
    temporary cost a page-faulting allocation. ``np.take`` gathers with ``mode="clip"`` (the ids
    are in range): with the default ``"raise"`` and ``out`` numpy gathers into a hidden copy
    first, three times slower than the gather itself. The arithmetic is the same operations in
    the same order, so the result is bit for bit the straightforward version's.
    """
    n, src, dst = graph.n, graph.src, graph.dst
    w = np.clip(graph.weight, -1.0, 1.0)
    out_deg = np.bincount(src, minlength=n).astype(np.float64)
    in_deg = np.bincount(dst, minlength=n).astype(np.float64)
    raters, ratees = out_deg > 0, in_deg > 0
    g_den, f_den = beta + in_deg, alpha + out_deg
    fairness, goodness, reliability = np.ones(n), np.ones(n), np.ones(graph.m)
    new_r, scratch = np.empty(graph.m), np.empty(graph.m)
    # With F in [0, 1] and |w - G| <= 2 a convex mix of F and the agreement stays in [0, 1]
    # (rounding is monotone), so clipping R only matters for negative gammas.
    clip_r = gamma1 < 0 or gamma2 < 0
    converged, steps = False, 0
    while steps < max_iter and not converged:
        steps += 1
        mu_g = float(np.median(goodness[ratees])) if ratees.any() else 0.0
        np.multiply(reliability, w, out=scratch)
        votes = beta * mu_g + np.bincount(dst, weights=scratch, minlength=n)
        new_g = np.clip(_ratio(votes, g_den, default=mu_g), -1.0, 1.0)
        # agreement = 1 - |w - G(dst)| / 2, in new_r
        np.take(new_g, dst, out=new_r, mode="clip")
        np.subtract(w, new_r, out=new_r)
        np.abs(new_r, out=new_r)
        np.divide(new_r, 2.0, out=new_r)
        np.subtract(1.0, new_r, out=new_r)
        if gamma2 != 1.0:  # x * 1.0 is x exactly: skip the pass
            np.multiply(new_r, gamma2, out=new_r)
        np.take(fairness, src, out=scratch, mode="clip")
        if gamma1 != 1.0:
            np.multiply(scratch, gamma1, out=scratch)
        np.add(scratch, new_r, out=new_r)
        np.divide(new_r, gamma1 + gamma2, out=new_r)
        if clip_r:
            np.clip(new_r, 0.0, 1.0, out=new_r)
        mu_f = float(np.median(fairness[raters])) if raters.any() else 1.0
        total = alpha * mu_f + np.bincount(src, weights=new_r, minlength=n)
        new_f = np.clip(_ratio(total, f_den, default=mu_f), 0.0, 1.0)
        change = max(
            float(np.abs(new_g - goodness).max(initial=0.0)),
            float(np.abs(new_f - fairness).max(initial=0.0)),
        )
        # The edge-sized change only decides anything once the node-sized ones are below tol.
        if change < tol:
            change = max(change, _max_change(new_r, reliability, scratch))
        fairness, goodness = new_f, new_g
        reliability, new_r = new_r, reliability
        converged = change < tol
    return Rev2Scores(
        fairness=fairness,
        goodness=goodness,
        reliability=reliability,
        iterations=steps,
        converged=converged,
    )

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
    """The fixed point of the three REV2 equations on ``graph`` (see the module docstring)."""
    n, src, dst = graph.n, graph.src, graph.dst
    w = np.clip(graph.weight, -1.0, 1.0)
    out_deg = np.bincount(src, minlength=n).astype(np.float64)
    in_deg = np.bincount(dst, minlength=n).astype(np.float64)
    raters, ratees = out_deg > 0, in_deg > 0
    fairness, goodness, reliability = np.ones(n), np.ones(n), np.ones(graph.m)
    converged, steps = False, 0
    while steps < max_iter and not converged:
        steps += 1
        mu_g = float(np.median(goodness[ratees])) if ratees.any() else 0.0
        votes = beta * mu_g + np.bincount(dst, weights=reliability * w, minlength=n)
        new_g = np.clip(_ratio(votes, beta + in_deg, default=mu_g), -1.0, 1.0)
        agreement = 1.0 - np.abs(w - new_g[dst]) / 2.0
        new_r = (gamma1 * fairness[src] + gamma2 * agreement) / (gamma1 + gamma2)
        new_r = np.clip(new_r, 0.0, 1.0)
        mu_f = float(np.median(fairness[raters])) if raters.any() else 1.0
        total = alpha * mu_f + np.bincount(src, weights=new_r, minlength=n)
        new_f = np.clip(_ratio(total, alpha + out_deg, default=mu_f), 0.0, 1.0)
        change = max(
            float(np.abs(new_g - goodness).max(initial=0.0)),
            float(np.abs(new_r - reliability).max(initial=0.0)),
            float(np.abs(new_f - fairness).max(initial=0.0)),
        )
        fairness, goodness, reliability = new_f, new_g, new_r
        converged = change < tol
    return Rev2Scores(
        fairness=fairness,
        goodness=goodness,
        reliability=reliability,
        iterations=steps,
        converged=converged,
    )

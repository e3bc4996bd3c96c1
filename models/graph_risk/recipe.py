"""The graph-risk recipe: score every node of an attributed graph from few or no labels.

1. Unsupervised ensemble (always): unlikeness to the neighbours (``views.affinity``), an
   ``AnomalyEnsemble`` over the structural features and one over the attributes; each on a rank
   scale, combined with fixed weights (``blend``). Only the affinity has a direction assumed
   (unlike the neighbours = anomalous); the two ensembles are two-sided.
2. With labels (any positive seen): LightGBM on raw attributes, structure, neighbour aggregates,
   residuals and the unsupervised scores, trained on the seen labels (``labelled_scores``). The
   unsupervised scores as inputs let even one or two positives say which kind of unusual counts.
   A positive-unlabelled variant (seen positives against every other node, cross-fitted) is kept
   as ``learner="pu"``: it did worse on every check graph (see ``RecipeConfig.learner``).
3. Mix: rank average of the two, the supervised share growing with the positives seen and, once
   there are enough to judge, chosen by how each does out of fold on the seen labels.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import lightgbm as lgb
import numpy as np
import scipy.sparse as sp
from scipy.stats import rankdata
from sklearn.metrics import roc_auc_score

from features.neighbours import adjacency
from models.anomaly import AnomalyEnsemble
from models.graph_risk.views import NodeViews, node_matrix, node_views


@dataclass(frozen=True)
class RecipeConfig:
    # Unsupervised parts and their weights (they are averaged on a rank scale).
    weights: dict[str, float] = field(
        default_factory=lambda: {"affinity": 0.6, "structure": 0.2, "attributes": 0.2}
    )
    folds: int = 5
    # Positives at which the supervised model's prior share reaches one half.
    half_share_positives: float = 10.0
    # Out-of-fold evidence counts like this many positives' worth of prior belief.
    prior_strength: float = 5.0
    # How the unsupervised score ranks the seen labels counts like this many positives' worth.
    evidence_positives: float = 2.0
    # "labelled": the seen labels only; "pu": seen positives against every other node. On every
    # check graph "labelled" ranked the hidden nodes better (PU's unlabelled hold the hidden
    # positives as negatives, and its many rows let a few positives be memorised).
    learner: str = "labelled"
    trees: int = 300
    learning_rate: float = 0.03
    leaves: int = 15
    min_leaf: int = 20


@dataclass(frozen=True)
class GraphRisk:
    score: np.ndarray  # final risk per node, in [0, 1], higher = riskier
    unsupervised: np.ndarray
    supervised: np.ndarray | None
    supervised_share: float
    parts: dict[str, np.ndarray]


def ranks(score: np.ndarray) -> np.ndarray:
    """Average ranks scaled to (0, 1]: puts any score on a common scale, ties shared."""
    return rankdata(score) / len(score)


def unsupervised_parts(views: NodeViews, *, seed: int) -> dict[str, np.ndarray]:
    """{part: rank-scaled score}, higher = more anomalous."""
    structure = AnomalyEnsemble(random_state=seed).fit(views.structure)
    # IsolationForest and histograms are cheap on every column; distances go to the summary.
    wide = AnomalyEnsemble(["iforest", "hbos"], random_state=seed).fit(views.standard)
    near = AnomalyEnsemble(["knn"], random_state=seed).fit(views.compact)
    attributes = ranks(wide.training_anomaly_score_ * 2 + near.training_anomaly_score_)
    return {
        "affinity": ranks(views.affinity["pairwise"]),
        "structure": ranks(structure.training_anomaly_score_),
        "attributes": attributes,
    }


def blend(parts: dict[str, np.ndarray], weights: dict[str, float]) -> np.ndarray:
    """Weighted surprisal of the parts' ranks, sum of w * -log(share of nodes ranked above).

    Fisher's way of combining p-values: a node far in the tail of one part stands out even when
    the others call it ordinary, which a plain average of ranks would dilute.
    """
    total = sum(weights.values())
    out = np.zeros(len(next(iter(parts.values()))))
    for name, weight in weights.items():
        rank = parts[name]
        out += weight / total * -np.log(1.0 - rank + 1.0 / len(rank))
    return out


def _booster(config: RecipeConfig, *, seed: int) -> lgb.LGBMClassifier:
    return lgb.LGBMClassifier(
        n_estimators=config.trees,
        learning_rate=config.learning_rate,
        num_leaves=config.leaves,
        min_child_samples=config.min_leaf,
        min_child_weight=1e-3,
        subsample=0.8,
        subsample_freq=1,
        colsample_bytree=0.5,
        reg_lambda=1.0,
        random_state=seed,
        n_jobs=1,
        verbose=-1,
    )


def _balance(y: np.ndarray) -> np.ndarray:
    # Square root of the class ratio: full balancing lets a handful of positives dominate.
    return np.where(y == 1, np.sqrt((y == 0).sum() / max(y.sum(), 1)), 1.0)


def labelled_scores(
    features: np.ndarray,
    seen: np.ndarray,
    *,
    labels: np.ndarray,
    config: RecipeConfig,
    seed: int,
) -> tuple[np.ndarray, np.ndarray | None]:
    """(score per node from a model trained on the seen labels, out-of-fold scores of the seen
    nodes or None when there are fewer positives than folds to hold them out)."""
    model = _booster(config, seed=seed).fit(features[seen], labels, sample_weight=_balance(labels))
    score = np.asarray(model.predict_proba(features))[:, 1]
    positives = int(labels.sum())
    if positives < config.folds or positives == len(labels):
        return score, None
    rng = np.random.default_rng(seed)
    fold = np.zeros(len(seen), dtype=np.int64)
    for value in (0, 1):  # stratified: every fold gets its share of the few positives
        members = np.flatnonzero(labels == value)
        fold[members] = rng.permutation(np.arange(len(members)) % config.folds)
    held_out = np.zeros(len(seen))
    for k in range(config.folds):
        train, test = fold != k, fold == k
        y = labels[train]
        part = _booster(config, seed=seed + k + 1).fit(
            features[seen[train]], y, sample_weight=_balance(y)
        )
        held_out[test] = np.asarray(part.predict_proba(features[seen[test]]))[:, 1]
    return score, held_out


def pu_scores(
    features: np.ndarray, positives: np.ndarray, *, config: RecipeConfig, seed: int
) -> np.ndarray:
    """Positive-unlabelled alternative (``RecipeConfig.learner = "pu"``): the seen positives
    against every other node, each node scored by a model that did not train on it."""
    n = len(features)
    fold = np.random.default_rng(seed).integers(0, config.folds, n)
    is_pos = np.zeros(n, dtype=bool)
    is_pos[positives] = True
    out = np.zeros(n)
    for k in range(config.folds):
        test = fold == k
        train = ~test | is_pos  # positives are never measured on: keep them all
        y = is_pos[train].astype(int)
        model = _booster(config, seed=seed + k).fit(features[train], y, sample_weight=_balance(y))
        out[test] = np.asarray(model.predict_proba(features[test]))[:, 1]
    return out


def supervised_share(
    unsupervised: np.ndarray,
    held_out: np.ndarray | None,
    *,
    labels: np.ndarray,
    config: RecipeConfig,
) -> float:
    """The supervised model's share in the mix, for the seen nodes' ``unsupervised`` scores,
    their out-of-fold supervised scores ``held_out`` and ``labels``: a prior from the number of
    positives, moved towards the share that ranks the seen labels best when there is evidence."""
    positives = int(labels.sum())
    prior = positives / (positives + config.half_share_positives)
    if 0 < positives < len(labels):
        # The unsupervised score never saw a label, so how it ranks the seen ones is fair
        # evidence even from one positive: where it misses them, lean on the labels sooner.
        agreement = roc_auc_score(labels, unsupervised)
        trust_unsupervised = float(np.clip(2 * agreement - 1, 0.0, 1.0))
        weight = positives / (positives + config.evidence_positives)
        prior = 1 - (1 - prior) * (1 - weight + weight * trust_unsupervised)
    if held_out is None:
        return prior
    grid = np.linspace(0.0, 1.0, 11)
    u, s = ranks(unsupervised), ranks(held_out)
    fit = [roc_auc_score(labels, (1 - w) * u + w * s) for w in grid]
    # Among equally good shares take the one nearest the prior (ties are common on few labels).
    best = max(range(len(grid)), key=lambda i: (round(fit[i], 6), -abs(grid[i] - prior)))
    trust = positives / (positives + config.prior_strength)
    return float(trust * grid[best] + (1 - trust) * prior)


def score_graph(
    src: np.ndarray,
    dst: np.ndarray,
    *,
    x: np.ndarray,
    seen: np.ndarray | None = None,
    labels: np.ndarray | None = None,
    seed: int = 0,
    config: RecipeConfig | None = None,
) -> GraphRisk:
    """Risk of every node of the undirected graph (``src``, ``dst``) with attributes ``x``.

    ``seen`` (node indices) and ``labels`` (0/1, aligned) are the labels the recipe may use; none
    or no positive among them means unsupervised.
    """
    config = config or RecipeConfig()
    x = np.asarray(x, dtype=np.float64)
    adj: sp.csr_matrix = adjacency(src, dst, n=len(x))
    views = node_views(adj, x, seed=seed)
    parts = unsupervised_parts(views, seed=seed)
    unsupervised = blend(parts, config.weights)
    seen = np.asarray([] if seen is None else seen, dtype=np.int64)
    labels = np.asarray([] if labels is None else labels, dtype=np.int64)
    positives = seen[labels == 1]
    if len(positives) == 0:
        return GraphRisk(unsupervised, unsupervised, None, 0.0, parts)
    features, _ = node_matrix(adj, views, scores={**views.affinity, **parts})
    if config.learner == "pu":
        supervised, held_out = pu_scores(features, positives, config=config, seed=seed), None
    else:
        supervised, held_out = labelled_scores(
            features, seen, labels=labels, config=config, seed=seed
        )
    share = supervised_share(unsupervised[seen], held_out, labels=labels, config=config)
    score = (1 - share) * ranks(unsupervised) + share * ranks(supervised)
    return GraphRisk(score, unsupervised, supervised, share, parts)

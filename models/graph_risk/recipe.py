"""The graph-risk recipe: score every node of an attributed graph from few or no labels.

1. Unsupervised ensemble (always): unlikeness to the neighbours (``views.affinity``), an
   ``AnomalyEnsemble`` over the structural features and one over the attributes; each on a rank
   scale, combined with fixed weights (``blend``). Only the affinity has a direction assumed
   (unlike the neighbours = anomalous); the two ensembles are two-sided.
2. With labels (any positive seen): a positive-unlabelled LightGBM on raw attributes, structure,
   neighbour aggregates, residuals and the unsupervised scores: the seen positives against every
   other node (seen negatives and the unlabelled: on a platform most users are honest, so
   unlabelled ~ negative, with noise). Every node is scored by models that did not train on it
   (cross-fitting), so hidden positives are not pushed down by having been fitted as negatives.
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
    trees: int = 300
    learning_rate: float = 0.03
    leaves: int = 15


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
        # Few positives: leaves must be allowed to hold only a handful of rows.
        min_child_samples=3,
        min_child_weight=1e-3,
        subsample=0.8,
        subsample_freq=1,
        colsample_bytree=0.5,
        reg_lambda=1.0,
        random_state=seed,
        n_jobs=1,
        verbose=-1,
    )


def pu_scores(
    features: np.ndarray, positives: np.ndarray, *, config: RecipeConfig, seed: int
) -> tuple[np.ndarray, bool]:
    """(score per node from models that never trained on it, whether positives got such scores).

    With fewer positives than folds every model keeps all positives (they are never scored
    out of fold: there is nothing to hold out).
    """
    n = len(features)
    rng = np.random.default_rng(seed)
    fold = rng.integers(0, config.folds, n)
    is_pos = np.zeros(n, dtype=bool)
    is_pos[positives] = True
    held_out_positives = len(positives) >= config.folds
    if held_out_positives:
        fold[positives] = rng.permutation(np.arange(len(positives)) % config.folds)
    out = np.zeros(n)
    for k in range(config.folds):
        test = fold == k
        train = ~test if held_out_positives else ~test | is_pos
        y = is_pos[train].astype(int)
        # Balance the classes: a handful of positives against thousands of unlabelled.
        weight = np.where(y == 1, (y == 0).sum() / max(y.sum(), 1), 1.0)
        model = _booster(config, seed=seed + k).fit(features[train], y, sample_weight=weight)
        out[test] = model.predict_proba(features[test])[:, 1]
    return out, held_out_positives


def supervised_share(
    unsupervised: np.ndarray,
    supervised: np.ndarray,
    *,
    seen: np.ndarray,
    labels: np.ndarray,
    validated: bool,
    config: RecipeConfig,
) -> float:
    """The supervised model's share in the mix: a prior from the number of positives, moved
    towards the share that ranks the seen labels best out of fold when there are enough."""
    positives = int(labels.sum())
    prior = positives / (positives + config.half_share_positives)
    if not validated or positives == len(labels):
        return prior
    grid = np.linspace(0.0, 1.0, 11)
    u, s = ranks(unsupervised)[seen], ranks(supervised)[seen]
    fit = [roc_auc_score(labels, (1 - w) * u + w * s) for w in grid]
    # Among equally good shares take the one nearest the prior (ties are common on few labels).
    best = max(range(len(grid)), key=lambda i: (round(fit[i], 6), -abs(grid[i] - prior)))
    trust = positives / (positives + config.prior_strength)
    return float(trust * grid[best] + (1 - trust) * prior)


def score_graph(
    src: np.ndarray,
    dst: np.ndarray,
    x: np.ndarray,
    *,
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
    supervised, validated = pu_scores(features, positives, config=config, seed=seed)
    share = supervised_share(
        unsupervised, supervised, seen=seen, labels=labels, validated=validated, config=config
    )
    score = (1 - share) * ranks(unsupervised) + share * ranks(supervised)
    return GraphRisk(score, unsupervised, supervised, share, parts)

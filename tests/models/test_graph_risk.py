"""The graph-risk recipe: label sampling, cross-fitted PU scores, and the mix, on small graphs."""

from __future__ import annotations

import numpy as np
import pytest

from models.graph_risk import evaluate_graph, score_graph, seen_labels
from models.graph_risk.recipe import (
    RecipeConfig,
    blend,
    labelled_scores,
    pu_scores,
    supervised_share,
)
from models.metrics import roc_auc


def small_graph(seed: int = 0, n: int = 400) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Two homophilous communities; 16 anomalies wired to random strangers with odd attributes."""
    rng = np.random.default_rng(seed)
    group = rng.integers(0, 2, n)
    x = rng.normal(size=(n, 6)) + np.where(group[:, None] == 1, 1.5, -1.5)
    src, dst = rng.integers(0, n, 12 * n), rng.integers(0, n, 12 * n)
    keep = group[src] == group[dst]
    edges = np.column_stack([src[keep], dst[keep]])[: 4 * n]
    bad = rng.choice(n, 16, replace=False)
    x[bad, :2] += 2.0
    strangers = np.isin(edges[:, 0], bad)
    edges[strangers, 1] = rng.integers(0, n, strangers.sum())
    y = np.zeros(n, dtype=np.int64)
    y[bad] = 1
    return edges, x, y


def test_seen_labels_are_stratified_with_at_least_one_positive() -> None:
    y = np.array([1] * 10 + [0] * 190)
    seen = seen_labels(y, rate=0.05, seed=3)
    assert (y[seen] == 1).sum() == 1 and (y[seen] == 0).sum() == round(0.05 * 190)
    assert len(seen_labels(y, rate=0.0, seed=3)) == 0
    assert seen_labels(y, rate=0.3, seed=3).tolist() == seen_labels(y, rate=0.3, seed=3).tolist()
    with pytest.raises(ValueError):
        seen_labels(y, rate=1.0, seed=0)


def test_blend_lets_one_confident_part_stand_out() -> None:
    parts = {"a": np.array([1.0, 0.5, 0.75, 0.25]), "b": np.array([0.25, 0.75, 0.5, 1.0])}
    score = blend(parts, {"a": 1.0, "b": 1.0})
    # Average ranks would tie every node at 0.625; surprisal favours each part's extreme.
    assert score[0] == pytest.approx(score[3]) and score[0] > score[1]


def test_labelled_scores_hold_out_positives_only_when_there_are_enough() -> None:
    rng = np.random.default_rng(0)
    features = rng.normal(size=(300, 3))
    truth = (np.arange(300) < 30).astype(int)
    features[truth == 1] += 3.0
    seen = np.arange(0, 300, 3)  # 10 positives among 100 seen
    config = RecipeConfig(trees=50)
    score, held_out = labelled_scores(features, seen, labels=truth[seen], config=config, seed=0)
    assert held_out is not None and held_out.shape == seen.shape
    assert roc_auc(truth[seen], held_out) > 0.9  # out of fold, yet the shift is plain
    hidden = np.setdiff1d(np.arange(300), seen)
    assert roc_auc(truth[hidden], score[hidden]) > 0.9
    few = np.array([0, *range(100, 160)])  # one positive: nothing to hold out
    _, held_out = labelled_scores(features, few, labels=truth[few], config=config, seed=0)
    assert held_out is None


def test_pu_alternative_scores_every_node_out_of_fold() -> None:
    rng = np.random.default_rng(1)
    features = rng.normal(size=(300, 3))
    positives = np.arange(10)
    features[:20] += 4.0  # ten seen positives, ten hidden ones like them
    score = pu_scores(features, positives, config=RecipeConfig(trees=50, min_leaf=3), seed=0)
    truth = (np.arange(300) < 20).astype(int)
    assert roc_auc(truth[10:], score[10:]) > 0.9


def test_supervised_share_follows_the_evidence() -> None:
    config = RecipeConfig()
    labels = np.array([1] * 20 + [0] * 80)
    useless = np.random.default_rng(0).random(100)
    perfect = labels + 0.01 * useless
    # Without out-of-fold scores: the prior from 20 positives (2/3), raised when the
    # unsupervised score misses the seen positives, kept when it finds them.
    assert supervised_share(perfect, None, labels=labels, config=config) == pytest.approx(20 / 30)
    assert supervised_share(1 - perfect, None, labels=labels, config=config) > 0.95
    assert supervised_share(useless, perfect, labels=labels, config=config) > 0.85
    assert supervised_share(perfect, useless, labels=labels, config=config) < 0.2


def test_recipe_finds_the_anomalies_with_and_without_labels() -> None:
    edges, x, y = small_graph()
    alone = score_graph(edges[:, 0], edges[:, 1], x=x, seed=0)
    assert alone.supervised is None and roc_auc(y, alone.score) > 0.85
    seen = seen_labels(y, rate=0.25, seed=0)
    helped = score_graph(edges[:, 0], edges[:, 1], x=x, seen=seen, labels=y[seen], seed=0)
    hidden = np.setdiff1d(np.arange(len(y)), seen)
    assert 0 < helped.supervised_share < 1
    assert roc_auc(y[hidden], helped.score[hidden]) > 0.85


def test_evaluate_graph_reports_the_recipe_and_both_peers() -> None:
    edges, x, y = small_graph(seed=1)
    result = evaluate_graph(edges[:, 0], edges[:, 1], x=x, labels=y, label_rate=0.1, seed=2)
    assert {"isolation_forest", "lightgbm_raw", "unsupervised"} <= set(result)
    assert result["seen_positives"] == 2 and result["nodes"] == len(y)
    assert result["roc_auc"] > result["isolation_forest"]["roc_auc"]  # type: ignore[index]

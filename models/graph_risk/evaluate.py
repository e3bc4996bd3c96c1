"""The outside check: the recipe and two peers on one attributed graph, labels partly hidden.

A random ``label_rate`` share of the nodes has its label seen (stratified by class, at least one
positive when the rate is above zero); everything is measured on the other nodes. Peers, in the
same run on the same split: IsolationForest on the raw attributes (what an unsupervised team
would try first) and LightGBM on the raw attributes trained on the seen labels (what a supervised
team would), both with their libraries' default settings.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import lightgbm as lgb
import numpy as np
from sklearn.ensemble import IsolationForest

from models.graph_risk.recipe import RecipeConfig, score_graph
from models.metrics import average_precision, roc_auc


def seen_labels(labels: np.ndarray, *, rate: float, seed: int) -> np.ndarray:
    """Sorted indices of the nodes whose labels are seen: ``rate`` of each class, rounded, and at
    least one positive when ``rate`` > 0 (a platform with labels has at least one)."""
    if not 0.0 <= rate < 1.0:
        raise ValueError(f"label rate must lie in [0, 1), not {rate}")
    if rate == 0.0:
        return np.array([], dtype=np.int64)
    rng = np.random.default_rng(seed)
    picked = []
    for value in (0, 1):
        members = np.flatnonzero(labels == value)
        count = round(rate * len(members))
        if value == 1:
            count = min(max(count, 1), len(members) - 1)  # keep a positive to measure on
        picked.append(rng.choice(members, size=count, replace=False))
    return np.sort(np.concatenate(picked))


def _figures(labels: np.ndarray, score: np.ndarray) -> dict[str, float]:
    return {
        "roc_auc": round(roc_auc(labels, score), 4),
        "average_precision": round(average_precision(labels, score), 4),
    }


def evaluate_graph(
    src: np.ndarray,
    dst: np.ndarray,
    *,
    x: np.ndarray,
    labels: np.ndarray,
    label_rate: float = 0.0,
    seed: int = 0,
    config: RecipeConfig | None = None,
    progress: Callable[[str], None] | None = None,
) -> dict[str, object]:
    """The recipe's and the peers' roc_auc / average_precision on the nodes whose labels are
    hidden, plus what they were given."""
    say = progress or (lambda _: None)
    start = time.perf_counter()
    labels = np.asarray(labels, dtype=np.int64)
    seen = seen_labels(labels, rate=label_rate, seed=seed)
    hidden = np.setdiff1d(np.arange(len(labels)), seen)
    say(f"{len(labels)} nodes, {len(src)} edges; {len(seen)} labels seen, {len(hidden)} hidden")
    risk = score_graph(src, dst, x=x, seen=seen, labels=labels[seen], seed=seed, config=config)
    say(f"recipe: supervised share {risk.supervised_share:.2f}")
    forest = IsolationForest(random_state=seed).fit(x)
    peers = {"isolation_forest": -forest.score_samples(x)}
    if labels[seen].sum() > 0:
        booster = lgb.LGBMClassifier(random_state=seed, n_jobs=1, verbose=-1)
        booster.fit(x[seen], labels[seen])
        peers["lightgbm_raw"] = np.asarray(booster.predict_proba(x))[:, 1]
    result: dict[str, object] = dict(_figures(labels[hidden], risk.score[hidden]))
    result["unsupervised"] = _figures(labels[hidden], risk.unsupervised[hidden])
    for name, score in peers.items():
        result[name] = _figures(labels[hidden], score[hidden])
    return result | {
        "label_rate": label_rate,
        "seed": seed,
        "nodes": len(labels),
        "seen_labels": len(seen),
        "seen_positives": int(labels[seen].sum()),
        "supervised_share": round(risk.supervised_share, 3),
        "seconds": round(time.perf_counter() - start, 2),
    }

"""Fit the platform fraud model and measure it where it will be used: on later snapshots."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import polars as pl

from models.fraud import FraudClassifier
from models.metrics import average_precision, precision_at_k, recall_at_fpr, roc_auc
from models.risk.data import FEATURES, RiskData

DEFAULT_PARAMS: dict[str, Any] = {
    "n_estimators": 600,
    "learning_rate": 0.05,
    "num_leaves": 15,
    "min_child_samples": 20,
    "early_stopping_rounds": 50,
}


@dataclass(frozen=True)
class TrainedRisk:
    model: FraudClassifier
    features: list[str]
    metrics: dict[str, float]
    params: dict[str, Any] = field(default_factory=dict)


def _xy(rows: pl.DataFrame, features: list[str]) -> tuple[pl.DataFrame, np.ndarray]:
    return rows.select(features), rows.get_column("label").to_numpy()


def evaluate(
    model: FraudClassifier,
    rows: pl.DataFrame,
    *,
    features: list[str],
    capacity: int,
    truth: pl.DataFrame | None = None,
) -> dict[str, float]:
    """Metrics on ``rows``: ROC AUC, average precision, precision at ``capacity`` per snapshot day,
    recall at 1% false positives, against observed labels; with ``truth`` (``user_id``,
    ``fraud_from``: the simulator's) the same against what really happened, and the share of true
    fraud the observed labels miss."""
    x, y = _xy(rows, features)
    p = model.predict_proba(x)[:, 1]
    days = rows.get_column("at").dt.date().to_numpy()
    out: dict[str, float] = {"rows": float(len(y)), "positives": float(y.sum())}

    def measure(prefix: str, target: np.ndarray) -> None:
        if 0 < target.sum() < len(target):
            out[f"{prefix}roc_auc"] = roc_auc(target, p)
            out[f"{prefix}average_precision"] = average_precision(target, p)
            out[f"{prefix}recall_at_1pct_fpr"] = recall_at_fpr(target, p, fpr=0.01)
        out[f"{prefix}precision_at_k"] = precision_at_k(target, p, k=capacity, groups=days)

    measure("", y)
    out["mean_fraud_risk"] = float(p.mean())
    if truth is not None:
        joined = rows.select("user_id", "at").join(truth, on="user_id", how="left")
        real = (
            (joined["fraud_from"].is_not_null() & (joined["fraud_from"] <= joined["at"]))
            .to_numpy()
            .astype(int)
        )
        measure("truth_", real)
        out["truth_positives"] = float(real.sum())
        out["labels_miss_share"] = float(1 - (y & real).sum() / real.sum()) if real.sum() else 0.0
    return out


def train_risk(
    data: RiskData,
    *,
    capacity: int = 50,
    params: dict[str, Any] | None = None,
    truth: pl.DataFrame | None = None,
) -> TrainedRisk:
    """Fit on ``train``, stop early and calibrate on ``valid``, measure on ``test``."""
    params = {**DEFAULT_PARAMS, **(params or {})}
    features = [f for f in FEATURES if f in data.train.columns]
    model = FraudClassifier(**params)
    model.fit(*_xy(data.train, features), eval_set=_xy(data.valid, features))
    metrics = evaluate(model, data.test, features=features, capacity=capacity, truth=truth)
    metrics |= {
        "train_rows": float(data.train.height),
        "train_positives": float(data.train["label"].sum()),
        "best_iteration": float(model.best_iteration_),
    }
    return TrainedRisk(model, features, metrics, params)

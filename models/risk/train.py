"""Fit the platform risk model on every labelled snapshot row, judged out of fold by user.

Rows are (user, snapshot) pairs: ``label`` 1 where a fraud label for the user arrived within the
horizon after the snapshot, else 0 (unlabelled: not found yet is not honest). Every metric here is
measured on out-of-fold scores (the fold model never saw the user), against observed labels and,
when the caller has it, against the simulator's truth (evaluation only).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import polars as pl

from models.metrics import average_precision, precision_at_k, recall_at_fpr, roc_auc
from models.risk.data import FEATURES, LABEL_ECHOES
from models.risk.pu import RiskModel

# The forest's anomaly percentile is one more input of the trees (``anomaly_input``), not a share
# of a blend: blended on percentiles, it reordered the head of the queue, where the trees' own
# percentiles all sit near 1, and filled it with busy honest sellers (measured on 10k-user
# simulations, seeds 11 and 12: queue precision at 50 from 0.48 / 0.60 to 0.86 / 0.78, average
# precision 0.62 / 0.65 to 0.72 / 0.70, with the weak-label floor of ``models.risk.labels``).
DEFAULT_PARAMS: dict[str, Any] = {
    "folds": 5,
    "n_estimators": 200,
    "anomaly_weight": 0.0,
    "anomaly_input": True,
}
MAX_UNLABELLED = 60_000  # unlabelled rows kept for training (all positives are kept)


@dataclass(frozen=True)
class TrainedRisk:
    model: RiskModel
    features: list[str]
    metrics: dict[str, float]
    params: dict[str, Any] = field(default_factory=dict)
    rows: pl.DataFrame | None = None  # the training rows with out-of-fold ``risk``


Rows = pl.DataFrame | pl.LazyFrame  # in memory, or spilled (``models.risk.spill``)


def sample_rows(rows: Rows, *, limit: int = MAX_UNLABELLED, seed: int = 0) -> pl.DataFrame:
    """Every positive row and at most ``limit`` unlabelled ones, with ``weight`` restoring the
    unlabelled rows' share (for calibration) and ``label_weight`` (1 where the rows have none).
    Of spilled rows only the label columns are read whole; the features, of the sample only."""
    lazy = rows.lazy()
    names = lazy.collect_schema().names()
    targets = lazy.select(c for c in ("label", "rule_label") if c in names).collect()
    taught = targets.select(_target(targets) == 1).to_series().fill_null(False)
    # Row numbers first, then one gather of the rows kept: the wide rows are never copied whole.
    # DataFrame.sample picks rows by the frame's height and the seed alone, so sampling the row
    # numbers of the unlabelled rows picks the rows sampling the rows themselves would.
    unlabelled = pl.DataFrame({"_i": (~taught).arg_true()})
    if unlabelled.height > limit:
        unlabelled_kept = unlabelled.sample(limit, seed=seed)
    else:
        unlabelled_kept = unlabelled
    weight = unlabelled.height / max(unlabelled_kept.height, 1)
    picked = pl.concat(
        [
            pl.DataFrame({"_i": taught.arg_true()}).with_columns(weight=pl.lit(1.0)),
            unlabelled_kept.with_columns(weight=pl.lit(weight)),
        ]
    )
    if isinstance(rows, pl.DataFrame):
        data = rows[picked["_i"]].with_columns(picked["weight"])
    else:
        data = (
            lazy.with_row_index("_i")
            .join(picked.lazy().with_row_index("_pick"), on="_i", how="inner")
            .collect(engine="streaming")
            .sort("_pick")
            .drop("_i", "_pick")
        )
    if "label_weight" not in names:
        data = data.with_columns(label_weight=pl.lit(1.0))
    return data.sort("at", "user_id", maintain_order=True)


def _target(rows: pl.DataFrame) -> pl.Expr:
    """What the trees are taught: an observed label or, where there is none, a rule's weak one
    (``models.risk.labels.with_rule_labels``). Metrics read ``label`` alone."""
    if "rule_label" not in rows.columns:
        return pl.col("label")
    return pl.max_horizontal("label", "rule_label")


def measure(
    scores: np.ndarray,
    rows: pl.DataFrame,
    *,
    capacity: int,
    truth: pl.DataFrame | None = None,
) -> dict[str, float]:
    """ROC AUC, average precision, precision at ``capacity`` per snapshot day and recall at 1 %
    false positives against ``label``; with ``truth`` (``user_id, fraud_from``) the same against
    what really happened (prefixed ``truth_``) and the share of true fraud no label found."""
    y = rows.get_column("label").to_numpy().astype(int)
    days = rows.get_column("at").dt.date().to_numpy()
    out: dict[str, float] = {"rows": float(len(y)), "positives": float(y.sum())}

    def against(prefix: str, target: np.ndarray) -> None:
        if 0 < target.sum() < len(target):
            out[f"{prefix}roc_auc"] = roc_auc(target, scores)
            out[f"{prefix}average_precision"] = average_precision(target, scores)
            out[f"{prefix}recall_at_1pct_fpr"] = recall_at_fpr(target, scores, fpr=0.01)
        out[f"{prefix}precision_at_k"] = precision_at_k(target, scores, k=capacity, groups=days)

    against("", y)
    out["mean_fraud_risk"] = float(scores.mean())
    if truth is not None:
        joined = rows.select("user_id", "at").join(truth, on="user_id", how="left")
        real = joined["fraud_from"].is_not_null() & (joined["fraud_from"] <= joined["at"])
        real_y = real.to_numpy().astype(int)
        against("truth_", real_y)
        out["truth_positives"] = float(real_y.sum())
        found = (y & real_y).sum()
        out["labels_miss_share"] = float(1 - found / real_y.sum()) if real_y.sum() else 0.0
    return out


def train_risk(
    rows: Rows,
    *,
    capacity: int = 50,
    params: dict[str, Any] | None = None,
    truth: pl.DataFrame | None = None,
) -> TrainedRisk:
    """Fit :class:`RiskModel` on ``rows`` (labelled snapshot rows), measure it out of fold."""
    params = {**DEFAULT_PARAMS, **(params or {})}
    names = rows.lazy().collect_schema().names()
    features = [f for f in FEATURES if f in names and f not in LABEL_ECHOES]
    data = sample_rows(rows)
    model = RiskModel(**params)
    weight = data.get_column("weight") * data.get_column("label_weight")
    taught = data.select(_target(data)).to_series()
    model.fit(
        data.select(features),
        taught,
        groups=data.get_column("user_id"),
        sample_weight=weight,
    )
    scored = data.with_columns(risk=pl.Series(model.oof_risk_))
    metrics = measure(model.oof_risk_, data, capacity=capacity, truth=truth)
    metrics |= {
        "train_rows": float(data.height),
        "train_positives": float(data["label"].sum()),
        "train_rule_positives": float(taught.sum()) - float(data["label"].sum()),
        "trees_per_fold": float(model.n_estimators),
        "label_frequency": model.label_frequency_,
    }
    return TrainedRisk(model, features, metrics, params, scored)

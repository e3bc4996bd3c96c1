"""The Fraud Detection Handbook benchmark: prequential folds, selection on validation folds only.

Features come from ``features.fraud`` (the platform's machinery), computed once over the whole
table, as the handbook does: that is sound only because every one of them is point in time (the
customer's windows end at the transaction; every label-based one reads labels of transactions at
or before t - 7 days). On an assessment day T that means labels up to T - 7 at most, all in the
delay period: no label from an assessment week reaches a feature of that week.

Feature sets (each chosen like any hyper-parameter, on validation folds):

- ``handbook``: the handbook's 15 inputs;
- ``card``: ``card_features``, the handbook's plus the richer ones (amount z-scores against the
  card's own history, terminal and card fraud history as known);
- ``wide``: ``card`` plus the same machinery's delayed terminal windows of more lengths, and the
  known fraud counts they imply (risk x transactions; a model-side product). A compromised
  terminal stays compromised for 28 days, so how long ago its known frauds began tells a live
  compromise from an ended one.

Each fold trains on its training week except the last ``early_stopping_days``, which it uses for
early stopping and Platt calibration (``FraudClassifier``): a model shipped at the end of the
training week could do exactly that. The delay week's labels are not known yet, so it is unused.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import KW_ONLY, dataclass, field
from datetime import timedelta
from typing import Any

import numpy as np
import polars as pl

from features.fraud import card_features, handbook_features
from features.fraud.cards import LABEL_DELAY
from features.fraud.schema import CARD_FEATURES, CARD_HANDBOOK_FEATURES
from models.fraud.classifier import FraudClassifier
from models.handbook.protocol import (
    DAY,
    DAY_COLUMN,
    Fold,
    assessment_rows,
    selection_overlaps,
    training_rows,
    with_day,
)
from models.metrics import average_precision, card_precision_at_k, recall_at_fpr, roc_auc

REQUIRED = ("TX_DATETIME", "CUSTOMER_ID", "TERMINAL_ID", "TX_AMOUNT", "TX_FRAUD")
EXTRA_TERMINAL_DAYS = (2, 3, 14, 21, 28, 60)
_FRAUD_COUNT_DAYS = (1, 2, 3, 7, 14, 21, 28, 30, 60)
METRICS = ("roc_auc", "average_precision", "card_precision_at_100")  # the handbook's
_REPORTED = (*METRICS, "recall_at_1pct_fpr")

_HANDBOOK = ["TX_AMOUNT", *(f.name for f in CARD_HANDBOOK_FEATURES)]
_CARD = ["TX_AMOUNT", *(f.name for f in CARD_FEATURES)]
_TERMINAL = [
    f"TERMINAL_ID_{k}_{n}DAY_WINDOW" for n in EXTRA_TERMINAL_DAYS for k in ("NB_TX", "RISK")
]
_COUNTS = [f"TERMINAL_ID_NB_FRAUD_{n}DAY_WINDOW" for n in _FRAUD_COUNT_DAYS]
FEATURE_SETS: dict[str, list[str]] = {
    "handbook": _HANDBOOK,
    "card": _CARD,
    "wide": [*_CARD, *(c for c in _TERMINAL if c not in _CARD), *_COUNTS],
}


def benchmark_features(tx: pl.DataFrame, *, label_delay: timedelta = LABEL_DELAY) -> pl.DataFrame:
    """``tx`` (handbook column names) with every column of ``FEATURE_SETS`` and ``DAY_COLUMN``."""
    missing = [c for c in REQUIRED if c not in tx.columns]
    if missing:
        raise ValueError(f"transactions lack columns {missing} (handbook names expected)")
    tx = tx.with_columns(
        pl.col("TX_DATETIME").cast(pl.Datetime("us")), pl.col("TX_FRAUD").cast(pl.Int8)
    )
    cards = card_features(tx, label_delay=label_delay)
    windows = handbook_features(tx, label_delay=label_delay, days=EXTRA_TERMINAL_DAYS)
    cards = cards.with_columns(windows.select(c for c in _TERMINAL if c not in cards.columns))
    known_frauds = [
        (pl.col(f"TERMINAL_ID_RISK_{n}DAY_WINDOW") * pl.col(f"TERMINAL_ID_NB_TX_{n}DAY_WINDOW"))
        .round()
        .alias(f"TERMINAL_ID_NB_FRAUD_{n}DAY_WINDOW")
        for n in _FRAUD_COUNT_DAYS
    ]
    return with_day(cards.with_columns(known_frauds))


@dataclass(frozen=True)
class Candidate:
    """One point of the grid: a feature set, the days held out of each training week for early
    stopping and calibration, and ``FraudClassifier`` hyper-parameters."""

    features: str = "wide"
    _: KW_ONLY
    early_stopping_days: int = 2
    params: dict[str, Any] = field(default_factory=dict)

    def describe(self) -> dict[str, Any]:
        return {
            "features": self.features,
            "early_stopping_days": self.early_stopping_days,
            **self.params,
        }

    def label(self) -> str:
        """Short: the feature set, the held-out days and what differs from ``BASE_PARAMS``."""
        own = {k: v for k, v in self.params.items() if BASE_PARAMS.get(k) != v}
        return " ".join(
            [
                self.features,
                f"es_days={self.early_stopping_days}",
                *(f"{k}={v}" for k, v in own.items()),
            ]
        )


# Slow learning with feature subsampling: a week holds only ~600 frauds, so each tree should
# move little; log loss stops the rounds because calibration comes next.
BASE_PARAMS: dict[str, Any] = {
    "n_estimators": 3000,
    "learning_rate": 0.02,
    "early_stopping_rounds": 100,
    "min_child_samples": 100,
    "colsample_bytree": 0.6,
    "eval_metric": "binary_logloss",
}


def _grid() -> tuple[Candidate, ...]:
    out = [
        Candidate("handbook", params={**BASE_PARAMS, "num_leaves": 15, "colsample_bytree": 1.0}),
        Candidate("card", params={**BASE_PARAMS, "num_leaves": 15}),
    ]
    for leaves in (7, 15, 31):
        out += [
            Candidate(
                "wide", early_stopping_days=days, params={**BASE_PARAMS, "num_leaves": leaves}
            )
            for days in (1, 2)
        ]
    return tuple(out)


DEFAULT_GRID = _grid()


def fit_fold(
    frame: pl.DataFrame, fold: Fold, *, candidate: Candidate, n_jobs: int = 1
) -> FraudClassifier:
    """Train on the fold's training days but the last ``candidate.early_stopping_days``; stop
    early and calibrate on those."""
    columns = FEATURE_SETS[candidate.features]
    rows = training_rows(frame, fold)
    cut = fold.train_end - candidate.early_stopping_days * DAY
    fit, held = rows.filter(pl.col(DAY_COLUMN) < cut), rows.filter(pl.col(DAY_COLUMN) >= cut)
    model = FraudClassifier(**{"n_jobs": n_jobs, **candidate.params})
    return model.fit(
        fit.select(columns), fit["TX_FRAUD"], eval_set=(held.select(columns), held["TX_FRAUD"])
    )


def assess(y: np.ndarray, score: np.ndarray, *, card: np.ndarray, day: np.ndarray) -> dict:
    cp, daily = card_precision_at_k(y, score, card=card, day=day, k=100, per_day=True)
    return {
        "roc_auc": roc_auc(y, score),
        "average_precision": average_precision(y, score),
        "card_precision_at_100": cp,
        "recall_at_1pct_fpr": recall_at_fpr(y, score, fpr=0.01),
        "card_precision_at_100_daily": daily,
    }


def run_fold(frame: pl.DataFrame, fold: Fold, *, candidate: Candidate) -> dict[str, Any]:
    """Fit, score the fold's assessment days (known-compromised cards removed), measure."""
    started = time.perf_counter()
    model = fit_fold(frame, fold, candidate=candidate)
    test = assessment_rows(frame, fold)
    y = test["TX_FRAUD"].to_numpy()
    score = model.predict_proba(test)[:, 1]
    metrics = assess(y, score, card=test["CUSTOMER_ID"].to_numpy(), day=test[DAY_COLUMN].to_numpy())
    return {
        "train_start": str(fold.train_start),
        **fold.describe(),
        "train_transactions": training_rows(frame, fold).height,
        "test_transactions": test.height,
        "test_frauds": int(y.sum()),
        **metrics,
        "best_iteration": model.best_iteration_,
        "mean_probability": float(score.mean()),
        "fraud_rate": float(y.mean()),
        "seconds": round(time.perf_counter() - started, 2),
    }


def run_folds(
    frame: pl.DataFrame, folds: Sequence[Fold], *, candidate: Candidate, jobs: int = 2
) -> list[dict[str, Any]]:
    """Every fold, ``jobs`` at a time (each LightGBM on one thread: several single-threaded
    boosters keep a busy machine's cores busy without OpenMP threads waiting on each other)."""
    with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        return list(pool.map(lambda f: run_fold(frame, f, candidate=candidate), folds))


def means(per_fold: Sequence[dict[str, Any]]) -> dict[str, float]:
    return {m: float(np.nanmean([f[m] for f in per_fold])) for m in _REPORTED}


def _rounded(values: dict[str, Any], digits: int = 4) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k, v in values.items():
        if isinstance(v, float):
            out[k] = round(v, digits)
        elif isinstance(v, list):
            out[k] = [round(x, digits) if isinstance(x, float) else x for x in v]
        else:
            out[k] = v
    return out


def evaluate(
    tx: pl.DataFrame,
    *,
    test_folds: Sequence[Fold],
    valid_folds: Sequence[Fold],
    grid: Sequence[Candidate] = DEFAULT_GRID,
    select_by: str = "average_precision",
    label_delay: timedelta = LABEL_DELAY,
    jobs: int = 2,
    progress: Callable[[str], None] | None = None,
) -> dict[str, Any]:
    """Pick the candidate with the best validation mean of ``select_by``; report it on the test
    folds. With one candidate there is nothing to select and validation folds may be empty."""
    if select_by not in METRICS:
        raise ValueError(f"select_by must be one of {METRICS}")
    say = progress or (lambda _: None)
    started = time.perf_counter()
    frame = benchmark_features(tx, label_delay=label_delay)
    timings = {"features": time.perf_counter() - started}
    tried = []
    for candidate in grid if len(grid) > 1 else ():
        per_fold = run_folds(frame, valid_folds, candidate=candidate, jobs=jobs)
        tried.append(
            {
                "candidate": candidate.label(),
                **_rounded(means(per_fold)),
                "best_iterations": [f["best_iteration"] for f in per_fold],
            }
        )
        say(f"validation {candidate.label()}: {_rounded(means(per_fold))}")
    best = max(range(len(tried)), key=lambda i: tried[i][select_by]) if tried else 0
    chosen = grid[best]
    timings["selection"] = time.perf_counter() - started - timings["features"]
    per_fold = run_folds(frame, test_folds, candidate=chosen, jobs=jobs)
    say(f"test {chosen.label()}: {_rounded(means(per_fold))}")
    timings["test"] = time.perf_counter() - started - sum(timings.values())
    timings["total"] = time.perf_counter() - started
    return {
        **_rounded(means(per_fold)),
        "std": _rounded({m: float(np.nanstd([f[m] for f in per_fold])) for m in _REPORTED}),
        "per_fold": [_rounded(f) for f in per_fold],
        "chosen": {"candidate": chosen.label(), **chosen.describe()},
        "n_features": len(FEATURE_SETS[chosen.features]),
        "select_by": select_by,
        "validation": {k: tried[best][k] for k in _REPORTED} if tried else None,
        "tried": tried,
        "warnings": selection_overlaps(valid_folds, test_folds) if tried else [],
        "transactions": tx.height,
        "seconds": _rounded(timings, 1),
    }

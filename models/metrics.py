"""Ranking metrics for fraud scores: what an analyst team with a review capacity cares about.

- ``roc_auc`` and ``average_precision``: scikit-learn's (the handbook's), at row level;
- ``precision_at_k``: the share of k review slots that land on fraud (optionally per day);
- ``recall_at_fpr``: the share of fraud caught while flagging at most ``fpr`` of the genuine rows;
- ``card_precision_at_k``: the Fraud Detection Handbook's Card Precision@k (see its docstring).

Every function takes ``y_true`` in {0, 1} and a score where higher means riskier. Ties in the
score are broken by input order (a stable sort), so results are deterministic; with continuous
scores ties are rare enough not to matter.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal, overload

import numpy as np
import numpy.typing as npt
from sklearn.metrics import average_precision_score, roc_auc_score, roc_curve

ArrayLike = npt.ArrayLike | Sequence[float]


def _arrays(y_true: ArrayLike, score: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    y, s = np.asarray(y_true), np.asarray(score, dtype=np.float64)
    if y.shape != s.shape or y.ndim != 1:
        raise ValueError(f"y_true and score must be 1-d and equally long: {y.shape}, {s.shape}")
    if not np.isin(y, (0, 1)).all():
        raise ValueError("y_true must hold only 0 and 1")
    return y.astype(np.int8), s


def roc_auc(y_true: ArrayLike, score: ArrayLike) -> float:
    """Area under the ROC curve; NaN when only one class is present (undefined, not an error)."""
    y, s = _arrays(y_true, score)
    return float(roc_auc_score(y, s)) if 0 < y.sum() < len(y) else float("nan")


def average_precision(y_true: ArrayLike, score: ArrayLike) -> float:
    """Average precision (step-wise area under the precision-recall curve); NaN without fraud."""
    y, s = _arrays(y_true, score)
    return float(average_precision_score(y, s)) if y.sum() > 0 else float("nan")


def _top_k_hits(y: np.ndarray, s: np.ndarray, k: int) -> int:
    order = np.argsort(-s, kind="stable")
    return int(y[order[:k]].sum())


def precision_at_k(
    y_true: ArrayLike, score: ArrayLike, *, k: int, groups: ArrayLike | None = None
) -> float:
    """Positives among the k highest scores, divided by k (always k, like the handbook: an unused
    review slot is a slot not spent on fraud).

    With ``groups`` (e.g. the day of each row) the precision is computed per group, k slots each
    day, and averaged over the groups.
    """
    if k <= 0:
        raise ValueError(f"k must be positive, not {k}")
    y, s = _arrays(y_true, score)
    if groups is None:
        return _top_k_hits(y, s, k) / k
    g = np.asarray(groups)
    values = [_top_k_hits(y[g == key], s[g == key], k) / k for key in np.unique(g)]
    return float(np.mean(values)) if values else float("nan")


def recall_at_fpr(y_true: ArrayLike, score: ArrayLike, *, fpr: float = 0.01) -> float:
    """The largest true-positive rate over thresholds whose false-positive rate is at most ``fpr``.

    No interpolation between ROC points: a threshold either meets the budget or not, as an
    operator choosing a real cut-off would see it.
    """
    if not 0 <= fpr <= 1:
        raise ValueError(f"fpr must lie in [0, 1], not {fpr}")
    y, s = _arrays(y_true, score)
    if not 0 < y.sum() < len(y):
        return float("nan")
    fprs, tprs, _ = roc_curve(y, s, drop_intermediate=False)
    return float(tprs[fprs <= fpr].max())


@overload
def card_precision_at_k(
    y_true: ArrayLike,
    score: ArrayLike,
    *,
    card: ArrayLike,
    day: ArrayLike,
    k: int = ...,
    per_day: Literal[False] = ...,
) -> float: ...
@overload
def card_precision_at_k(
    y_true: ArrayLike,
    score: ArrayLike,
    *,
    card: ArrayLike,
    day: ArrayLike,
    k: int = ...,
    per_day: Literal[True],
) -> tuple[float, list[float]]: ...
def card_precision_at_k(
    y_true: ArrayLike,
    score: ArrayLike,
    *,
    card: ArrayLike,
    day: ArrayLike,
    k: int = 100,
    per_day: bool = False,
) -> float | tuple[float, list[float]]:
    """The handbook's Card Precision@k over the test days present in ``day``.

    For each day, in date order:

    1. drop the cards correctly flagged (a compromised card in the top k) on an earlier day:
       a detected card is blocked;
    2. group the day's transactions by card, taking the max score and the max label;
    3. sort the cards by score, descending (ties: smaller card id first), and take the top k;
    4. CP@k(day) = compromised cards among them / k (the denominator is always k).

    Returns the mean over days, and with ``per_day`` also the list of daily values.
    """
    if k <= 0:
        raise ValueError(f"k must be positive, not {k}")
    y, s = _arrays(y_true, score)
    cards, days = np.asarray(card), np.asarray(day)
    if cards.shape != y.shape or days.shape != y.shape:
        raise ValueError("card and day must be as long as y_true")
    detected: set = set()
    daily: list[float] = []
    for d in np.unique(days):
        on_day = days == d
        c, yd, sd = cards[on_day], y[on_day], s[on_day]
        if detected:
            keep = ~np.isin(c, np.fromiter(detected, dtype=c.dtype, count=len(detected)))
            c, yd, sd = c[keep], yd[keep], sd[keep]
        ids, inverse = np.unique(c, return_inverse=True)
        best = np.full(len(ids), -np.inf)
        np.maximum.at(best, inverse, sd)
        compromised = np.zeros(len(ids), dtype=np.int8)
        np.maximum.at(compromised, inverse, yd)
        top = np.argsort(-best, kind="stable")[:k]  # ids are sorted: ties go to the smaller id
        hits = top[compromised[top] == 1]
        detected.update(ids[hits].tolist())
        daily.append(len(hits) / k)
    mean = float(np.mean(daily)) if daily else float("nan")
    return (mean, daily) if per_day else mean

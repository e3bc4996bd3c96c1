"""The release of a fitted ranker, the same for feed and search: log the candidate with its test
metrics, register it and gate it against the champion on NDCG@k of the same test groups, all
through ``models.tracking`` (the one module that talks to MLflow)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Generic, TypeVar

import numpy as np
import polars as pl

from models.feed.ndcg import mean_ndcg
from models.lambdarank.ranker import LambdaRanker
from models.tracking import Candidate, GateResult, Tracker, gate, log_candidate

R = TypeVar("R", bound=LambdaRanker)


@dataclass(frozen=True)
class RankerRelease(Generic[R]):
    ranker: R
    report: dict[str, Any]
    candidate: Candidate
    gate: GateResult


def report_metrics(report: dict[str, Any], *, k: int) -> dict[str, float]:
    """NDCG@k of every ordering and the group counts of an evaluation report, as metrics."""
    metrics = {f"ndcg_{name}": float(v) for name, v in report[f"ndcg_at_{k}"].items()}
    return metrics | {f"groups_{name}": float(v) for name, v in report["groups"].items()}


def log_and_gate(
    ranker: R,
    report: dict[str, Any],
    *,
    test: pl.DataFrame,
    metrics: dict[str, float],
    tracker: Tracker,
    model_name: str,
    tags: dict[str, str],
) -> RankerRelease[R]:
    """Log and register ``ranker`` with ``metrics`` and ``tags``; the gate compares NDCG@k of
    the candidate and the champion on the ``test`` groups, with removed (``-inf``) candidates
    ranked last."""
    k = ranker.k
    groups = test.get_column("group_id").to_numpy()

    def ndcg_at_k(labels: np.ndarray, scores: np.ndarray) -> float:
        finite = np.where(np.isfinite(scores), scores, -1e9)  # removed rows rank last
        return mean_ndcg(groups, finite, labels=labels, k=k)

    candidate = log_candidate(
        tracker,
        experiment=model_name,
        model_name=model_name,
        model=ranker,
        example=test,
        params=ranker.get_params(),
        metrics=metrics,
        tags=tags,
        predict_fn="predict",
    )
    verdict = gate(
        tracker,
        candidate,
        holdout=test,
        target=test.get_column("label").to_numpy(),
        metric=ndcg_at_k,
        metric_name=f"test_ndcg_at_{k}",
        predict_fn="predict",
    )
    return RankerRelease(ranker, report, candidate, verdict)

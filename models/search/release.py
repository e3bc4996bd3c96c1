"""Train, measure, log, register and gate one search ranker; and what a release publishes.

``release_search_ranker`` is the feed ranker's release (``models.feed.release``) for searches:
fit on the train window, early-stop on valid, report NDCG@k on test against relevance and
newest-first, log and register in MLflow (through ``models.tracking``), gate against the
champion on the same test searches. ``publication`` is what ``serving.search.publish`` writes
for the core API: the champion's booster as text, its features and policy, the category price
medians and the seller table as of the snapshot.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

from features.lake import EventSource, utc
from features.search import category_medians, load_inputs, seller_table
from models.feed.evaluate import Windows
from models.feed.ndcg import mean_ndcg
from models.search.evaluate import fit_and_evaluate
from models.search.ranker import SearchRanker
from models.tracking import Candidate, GateResult, Tracker, gate, log_candidate


@dataclass(frozen=True)
class SearchRelease:
    ranker: SearchRanker
    report: dict[str, Any]
    candidate: Candidate
    gate: GateResult


def release_search_ranker(
    source: EventSource,
    *,
    windows: Windows,
    trust: pl.DataFrame | None,
    risk: pl.DataFrame | None,
    tracker: Tracker,
    model_name: str,
    tags: dict[str, str],
    truth: Path | None = None,
) -> SearchRelease:
    ranker, report, frames = fit_and_evaluate(
        source, windows=windows, trust=trust, risk=risk, truth=truth
    )
    k = ranker.k
    test = frames["test"]
    metrics = {f"ndcg_{n}": float(v) for n, v in report[f"ndcg_at_{k}"].items()}
    metrics |= {f"groups_{n}": float(v) for n, v in report["groups"].items()}
    metrics |= {f"fraud_top3_{n}": v for n, v in report.get("fraud_share_top3", {}).items()}
    groups = test.get_column("group_id").to_numpy()

    def ndcg_at_k(labels: np.ndarray, scores: np.ndarray) -> float:
        finite = np.where(np.isfinite(scores), scores, -1e9)  # removed listings rank last
        return mean_ndcg(groups, finite, labels=labels, k=k)

    candidate = log_candidate(
        tracker,
        experiment=model_name,
        model_name=model_name,
        model=ranker,
        example=test,
        params=ranker.get_params(),
        metrics=metrics,
        tags={**tags, "test_from": str(windows.test[0])},
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
    return SearchRelease(ranker, report, candidate, verdict)


def publication(
    ranker: SearchRanker,
    source: EventSource,
    *,
    at: datetime,
    trust: pl.DataFrame | None,
    risk: pl.DataFrame | None,
) -> tuple[str, dict[str, Any], pl.DataFrame]:
    """``(model text, meta, seller table)`` as of ``at``, for ``serving.search.publish``."""
    inputs = load_inputs(source, before=at)
    medians = category_medians(inputs, at=at)
    meta = {
        "features": list(ranker.features),
        "medians": medians.to_dicts(),
        "policy": {
            "min_trust": float(ranker.min_trust),
            "max_fraud_risk": float(ranker.max_fraud_risk),
            "demotion": max(ranker.demotion, -1e9),
        },
        "as_of": utc(at).isoformat(),
    }
    return ranker.model_text(), meta, seller_table(inputs, at=at, trust=trust, risk=risk)

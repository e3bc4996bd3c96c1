"""Train, measure, log, register and gate one search ranker; and what a release publishes.

``release_search_ranker``: fit on the train window, early-stop on valid, report NDCG@k on test
against relevance and newest-first, then log, register and gate against the champion on the
same test searches as the feed ranker is (``models.lambdarank.release``). ``publication`` is
what ``serving.search.publish`` writes for the core API: the champion's booster as text, its
features and policy, the category price medians and the seller table as of the snapshot.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

import polars as pl

from features.lake import EventSource, utc
from features.search import category_medians, load_inputs, seller_table
from models.feed.evaluate import Windows
from models.lambdarank.release import RankerRelease, log_and_gate, report_metrics
from models.search.evaluate import fit_and_evaluate
from models.search.ranker import SearchRanker
from models.tracking import Tracker


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
) -> RankerRelease[SearchRanker]:
    ranker, report, frames = fit_and_evaluate(
        source, windows=windows, trust=trust, risk=risk, truth=truth
    )
    metrics = report_metrics(report, k=ranker.k)
    metrics |= {f"fraud_top3_{n}": v for n, v in report.get("fraud_share_top3", {}).items()}
    return log_and_gate(
        ranker,
        report,
        test=frames["test"],
        metrics=metrics,
        tracker=tracker,
        model_name=model_name,
        tags={**tags, "test_from": str(windows.test[0])},
    )


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

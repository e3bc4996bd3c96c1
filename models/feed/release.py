"""Train, measure, log, register and gate one feed ranker: the whole release in one call."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

from features.feed.inputs import trust_snapshots
from features.lake import EventSource
from models.feed.evaluate import Windows, evaluate_ranker, window_groups
from models.feed.ndcg import mean_ndcg
from models.feed.ranker import FeedRanker
from models.tracking import Candidate, GateResult, Tracker, gate, log_candidate


@dataclass(frozen=True)
class RankerRelease:
    ranker: FeedRanker
    report: dict[str, Any]
    candidate: Candidate
    gate: GateResult


def release_ranker(
    source: EventSource,
    *,
    windows: Windows,
    trust: pl.DataFrame | None,
    tracker: Tracker,
    model_name: str,
    tags: dict[str, str],
    truth: Path | None = None,
    k: int = 10,
) -> RankerRelease:
    """Fit on the train window (early-stopped on valid), report NDCG@k on test against the
    baselines (and the oracle, with truth), log and register; the gate compares NDCG@k of the
    candidate and the champion on the same test groups."""
    # Every window starts with a trust snapshot, so author trust is as fresh in training as it
    # will be when serving; stored snapshots are reused, missing ones computed.
    starts = [windows.train[0], windows.valid[0], windows.test[0]]
    have = set() if trust is None else set(trust.get_column("snapshot_at").unique().to_list())
    missing = trust_snapshots(source, [t for t in starts if t not in have])
    if trust is not None:
        missing = pl.concat([trust.select("user_id", "snapshot_at", "trust"), missing])
    trust = missing
    frames = {
        name: window_groups(source, getattr(windows, name), trust=trust)
        for name in ("train", "valid", "test")
    }
    ranker = FeedRanker(k=k).fit(frames["train"], eval_set=frames["valid"])
    test = frames["test"]
    report = evaluate_ranker(ranker, test, truth=truth, k=k)
    ndcg = report[f"ndcg_at_{k}"]
    metrics = {f"ndcg_{name}": value for name, value in ndcg.items()}
    metrics |= {k_: v for k_, v in report.items() if isinstance(v, float)}
    metrics |= {f"groups_{name}": float(v) for name, v in report["groups"].items()}
    groups = test.get_column("group_id").to_numpy()

    def ndcg_at_k(labels: np.ndarray, scores: np.ndarray) -> float:
        finite = np.where(np.isfinite(scores), scores, -1e9)  # removed (flagged) rows rank last
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
    labels = test.get_column("label").to_numpy()
    verdict = gate(
        tracker,
        candidate,
        holdout=test,
        target=labels,
        metric=ndcg_at_k,
        metric_name=f"test_ndcg_at_{k}",
        predict_fn="predict",
    )
    return RankerRelease(ranker, report, candidate, verdict)

"""Train, measure, log, register and gate one feed ranker: the whole release in one call."""

from __future__ import annotations

from pathlib import Path

import polars as pl

from features.feed.inputs import trust_snapshots
from features.lake import EventSource
from models.feed.evaluate import Windows, evaluate_ranker, window_groups
from models.feed.ranker import FeedRanker
from models.lambdarank.release import RankerRelease, log_and_gate, report_metrics
from models.tracking import Tracker


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
) -> RankerRelease[FeedRanker]:
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
    metrics = report_metrics(report, k=k)
    metrics |= {name: v for name, v in report.items() if isinstance(v, float)}
    return log_and_gate(
        ranker,
        report,
        test=test,
        metrics=metrics,
        tracker=tracker,
        model_name=model_name,
        tags={**tags, "test_from": str(windows.test[0])},
    )

"""Train, log, judge and register one risk model: the whole release in one call.

A candidate must first clear floors that need no ground truth (a first model too: nothing else
stops a bad first model from serving): enough observed positives to judge it, an out-of-fold ROC
AUC well above chance, and a sane score distribution on the newest snapshot (few users in the
high band, a head of the queue that ranks). Then it must beat the champion's average precision
on the same rows. A candidate that fails is registered and tagged rejected; the champion (or,
with none, ``scoring.fallback_scores``) keeps serving.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import polars as pl

from models import plots
from models.metrics import average_precision
from models.risk.scoring import BANDS, bands
from models.risk.train import Rows, TrainedRisk, train_risk
from models.tracking import Candidate, GateResult, Tracker, gate, log_candidate, reject

HISTORY_BLOCK = 100_000  # rows scored at a time by risk_history


@dataclass(frozen=True)
class Floors:
    min_positives: int = 20
    min_roc_auc: float = 0.70
    # Of the newest snapshot's users in the high band: a sanity bound that catches a broken
    # calibration (a quarter of the platform "high"), not a target; simulated platforms hold
    # 3-5 % fraud, and a sound first model on a 10-day, 1,500-user one put 5.4 % there.
    max_high_share: float = 0.10
    min_distinct_top: int = 40  # distinct risks among the newest snapshot's top 50


def failed_floors(trained: TrainedRisk, *, floors: Floors = Floors()) -> list[str]:
    """What keeps ``trained`` from serving (empty when it may), from observed labels only."""
    m, failed = trained.metrics, []
    if m["positives"] < floors.min_positives:
        failed.append(f"{m['positives']:.0f} positives < {floors.min_positives}")
    auc = m.get("roc_auc", float("nan"))
    if not auc >= floors.min_roc_auc:
        failed.append(f"out-of-fold ROC AUC {auc:.3f} < {floors.min_roc_auc}")
    if trained.rows is not None:
        newest = trained.rows.filter(pl.col("at") == pl.col("at").max())["risk"].to_numpy()
        high = float((newest >= BANDS["high"]).mean())
        if high > floors.max_high_share:
            failed.append(f"{high:.1%} of users in the high band > {floors.max_high_share:.0%}")
        top = np.sort(newest)[::-1][:50]
        distinct = len(np.unique(top))
        if distinct < min(floors.min_distinct_top, len(top)):
            failed.append(f"{distinct} distinct risks in the top 50 < {floors.min_distinct_top}")
    return failed


@dataclass(frozen=True)
class Release:
    trained: TrainedRisk
    candidate: Candidate
    gate: GateResult
    failed: list[str]


def release(
    rows: Rows,
    *,
    tracker: Tracker,
    model_name: str,
    tags: dict[str, str],
    capacity: int = 50,
    truth: pl.DataFrame | None = None,
    floors: Floors = Floors(),
) -> Release:
    """Train on ``rows``, log everything to the tracker, register a version, then the floors and
    the gate decide whether it becomes the champion."""
    trained = train_risk(rows, capacity=capacity, truth=truth)
    data = trained.rows  # the training sample with its out-of-fold risk
    if data is None:
        raise ValueError("train_risk kept no rows")
    x = data.select(trained.features)
    y = data.get_column("label").to_numpy()
    p = trained.model.oof_risk_
    failed = failed_floors(trained, floors=floors)
    gains = trained.model.feature_importances_
    figures = {"importance": plots.importance(trained.model.input_names_, gains)}
    if 0 < y.sum() < len(y):
        figures |= {"pr_curve": plots.pr_curve(y, p), "calibration": plots.calibration(y, p)}
    candidate = log_candidate(
        tracker,
        experiment=model_name,
        model_name=model_name,
        model=trained.model,
        example=x,
        params={**trained.params, "capacity": capacity, "features": len(trained.features)},
        metrics={**trained.metrics, "floors_failed": float(len(failed))},
        tags={**tags, "train_until": str(data["at"].max()), "floors": "; ".join(failed) or "ok"},
        figures=figures,
    )
    if failed:
        return Release(trained, candidate, reject(tracker, candidate, failed=failed), failed)
    verdict = gate(
        tracker,
        candidate,
        holdout=data,
        target=y,
        metric=average_precision,
        metric_name="oof_average_precision",
        candidate_scores=p,
    )
    return Release(trained, candidate, verdict, failed)


def risk_history(trained: TrainedRisk, rows: Rows) -> pl.DataFrame:
    """``user_id, at, fraud_risk, band`` for every snapshot row the model was trained over: the
    out-of-fold risk where the row was in the training sample, the bag's risk elsewhere."""
    # A block of rows at a time: the model's matrices (features, forest, trees) stay a block's
    # size, not every snapshot row's; each row's risk depends on that row alone.
    keys, risks = [], []
    for block in _blocks(rows.lazy().select("user_id", "at", *trained.features)):
        parts = trained.model.parts(block.select(trained.features), users=block["user_id"])
        risks.append(parts["risk"])
        keys.append(block.select("user_id", "at"))
    risk = np.concatenate(risks or [np.zeros(0)])
    out = (pl.concat(keys) if keys else rows.lazy().select("user_id", "at").collect()).with_columns(
        fraud_risk=pl.Series(risk)
    )
    if trained.rows is not None:
        oof = trained.rows.select("user_id", "at", pl.col("risk").alias("_oof"))
        out = out.join(oof, on=["user_id", "at"], how="left", maintain_order="left").with_columns(
            pl.coalesce("_oof", "fraud_risk").alias("fraud_risk")
        )
    scored = out.select("user_id", "at", "fraud_risk")
    return scored.with_columns(band=pl.Series(bands(scored["fraud_risk"].to_numpy())))


def _blocks(rows: pl.LazyFrame) -> Iterator[pl.DataFrame]:
    """``rows`` HISTORY_BLOCK rows at a time, in order (of spilled rows: a file at a time)."""
    height = rows.select(pl.len()).collect().item()
    for offset in range(0, height, HISTORY_BLOCK):
        yield rows.slice(offset, HISTORY_BLOCK).collect()

"""Train, log, register and gate one fraud model: the whole release in one call."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import polars as pl

from models import plots
from models.metrics import average_precision
from models.risk.data import split
from models.risk.train import TrainedRisk, train_risk
from models.tracking import Candidate, GateResult, Tracker, gate, log_candidate


@dataclass(frozen=True)
class Release:
    trained: TrainedRisk
    candidate: Candidate
    gate: GateResult


def release(
    rows: pl.DataFrame,
    *,
    tracker: Tracker,
    model_name: str,
    horizon: timedelta,
    tags: dict[str, str],
    capacity: int = 50,
    truth: pl.DataFrame | None = None,
) -> Release:
    """Split ``rows`` in time, train, log everything to the tracker, register a version and let
    the gate decide whether it becomes the champion (average precision on the same test rows)."""
    data = split(rows, horizon=horizon)
    trained = train_risk(data, capacity=capacity, truth=truth)
    x = data.test.select(trained.features)
    y = data.test.get_column("label").to_numpy()
    p = trained.model.predict_proba(x)[:, 1]
    figures = {"importance": plots.importance(trained.features, trained.model.feature_importances_)}
    if 0 < y.sum() < len(y):
        figures |= {"pr_curve": plots.pr_curve(y, p), "calibration": plots.calibration(y, p)}
    candidate = log_candidate(
        tracker,
        experiment=model_name,
        model_name=model_name,
        model=trained.model,
        example=x,
        params={
            **trained.params,
            "horizon_days": horizon.days,
            "capacity": capacity,
            "features": len(trained.features),
        },
        metrics=trained.metrics,
        tags={
            **tags,
            "train_until": str(data.train["at"].max()),
            "test_from": str(data.test["at"].min()),
        },
        figures=figures,
    )
    verdict = gate(
        tracker,
        candidate,
        holdout=x,
        target=y,
        metric=average_precision,
        metric_name="test_average_precision",
    )
    return Release(trained, candidate, verdict)

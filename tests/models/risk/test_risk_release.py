"""The floors a candidate must clear before it may serve, judged on observed labels only."""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
import polars as pl

from models.risk.pu import RiskModel
from models.risk.release import Floors, failed_floors
from models.risk.train import TrainedRisk

AT = datetime(2026, 9, 1, tzinfo=UTC)


def _trained(*, positives: float, auc: float, risk: np.ndarray) -> TrainedRisk:
    rows = pl.DataFrame(
        {"user_id": [f"u{i}" for i in range(len(risk))], "risk": risk}
    ).with_columns(at=pl.lit(AT))
    metrics = {"positives": positives, "roc_auc": auc}
    return TrainedRisk(RiskModel(), [], metrics, {}, rows)


def test_release_floors_pass_a_model_that_ranks() -> None:
    risk = np.linspace(0.001, 0.52, 1000)  # 4 % in the high band
    assert failed_floors(_trained(positives=40, auc=0.9, risk=risk)) == []


def test_release_floors_name_every_failure() -> None:
    tied = np.r_[np.full(200, 0.8), np.linspace(0.0, 0.1, 800)]
    failed = failed_floors(_trained(positives=5, auc=0.55, risk=tied), floors=Floors())
    assert failed == [
        "5 positives < 20",
        "out-of-fold ROC AUC 0.550 < 0.7",
        "20.0% of users in the high band > 10%",
        "1 distinct risks in the top 50 < 40",
    ]


def test_release_floors_treat_an_unmeasurable_auc_as_failing() -> None:
    failed = failed_floors(_trained(positives=30, auc=float("nan"), risk=np.linspace(0, 0.2, 100)))
    assert failed == ["out-of-fold ROC AUC nan < 0.7"]

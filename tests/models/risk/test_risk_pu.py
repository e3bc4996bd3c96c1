"""The PU risk model: unlabelled is not honest, unlabelled typologies still surface, calibration."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest
from sklearn.metrics import roc_auc_score

from models.risk import pu
from models.risk.pu import RiskModel, user_folds

LABEL_SHARE = 0.3  # labels find 30 % of the fraud they can see


@pytest.fixture(scope="module")
def platform() -> tuple[pl.DataFrame, np.ndarray, np.ndarray, np.ndarray]:
    """Honest users; a known typology (shifted x1, labelled 30 % of the time); a hidden one
    (extreme x2, never labelled)."""
    rng = np.random.default_rng(5)
    n = 3000
    kind = rng.choice([0, 1, 2], size=n, p=[0.85, 0.10, 0.05])
    x1 = rng.normal(0, 1, n) + 2.5 * (kind == 1)
    x2 = rng.lognormal(0, 0.5, n) * np.where(kind == 2, 40, 1)
    x3 = rng.normal(0, 1, n)
    labelled = (kind == 1) & (rng.random(n) < LABEL_SHARE)
    frame = pl.DataFrame({"x1": x1, "x2": x2, "x3": x3})
    return frame, labelled.astype(int), kind, np.array([f"u{i}" for i in range(n)])


@pytest.fixture(scope="module")
def fitted(platform) -> RiskModel:
    frame, labelled, _, users = platform
    model = RiskModel(folds=3, n_estimators=60, random_state=1, n_jobs=1)
    return model.fit(frame, labelled, groups=users)


def test_pu_folds_are_stable_per_user() -> None:
    assert user_folds(["a", "b", "a"], 5).tolist()[0] == user_folds(["a"], 5)[0]
    assert set(user_folds([f"u{i}" for i in range(200)], 5)) == {0, 1, 2, 3, 4}


def test_pu_unlabelled_fraud_ranks_above_honest(fitted: RiskModel, platform) -> None:
    _, labelled, kind, _ = platform
    unlabelled = (labelled == 0) & (kind != 2)
    # the 70 % of the known typology nobody labelled: PU does not learn them as honest
    assert roc_auc_score(kind[unlabelled] == 1, fitted.oof_risk_[unlabelled]) > 0.85


def test_pu_anomaly_part_lifts_a_typology_nobody_labelled(fitted: RiskModel, platform) -> None:
    _, _, kind, _ = platform
    hidden = kind != 1
    target = kind[hidden] == 2
    alone = roc_auc_score(target, fitted.oof_supervised_[hidden])
    blended = roc_auc_score(target, fitted.oof_blend_[hidden])
    assert roc_auc_score(target, fitted.oof_anomaly_[hidden]) > 0.95
    assert blended > alone + 0.1 and blended > 0.5


def test_pu_label_frequency_estimates_the_labelled_share(fitted: RiskModel) -> None:
    # Elkan–Noto's c is what the labelled share of the *findable* fraud is, here ~0.3.
    assert 0.1 < fitted.label_frequency_ < 0.6


def test_pu_risk_is_a_bounded_probability_that_ranks(fitted: RiskModel, platform) -> None:
    frame, _, kind, _ = platform
    risk = fitted.predict_proba(frame)[:, 1]
    assert ((risk >= 0) & (risk < 1)).all()
    top = np.sort(risk)[::-1][:50]
    assert len(np.unique(top)) >= 45  # no clipping, no plateau at the head of the queue
    # calibrated to fraud, not to labels: the mean risk is near the fraud share, not the labelled
    assert abs(risk.mean() - (kind > 0).mean()) < 0.08


def test_pu_contributions_cover_every_feature(fitted: RiskModel, platform) -> None:
    frame, *_ = platform
    contributions = fitted.feature_contributions(frame.head(5))
    assert contributions.shape == (5, 4)  # three features and the bias


def test_log_scaled_in_blocks_equals_the_plain_expression(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(pu, "_LOG_ROWS", 7)  # several blocks and a short last one
    rng = np.random.default_rng(3)
    x = rng.standard_normal((50, 4)) * 1e3
    x[::5, 1] = np.nan
    x[3, 2], x[4, 3], x[5, 0] = 0.0, -0.0, np.inf
    want = np.nan_to_num(np.sign(x) * np.log1p(np.abs(x)), nan=0.0)
    np.testing.assert_array_equal(pu._log_scaled(x.copy()), want)
    frozen = x.copy()
    frozen.flags.writeable = False  # a read-only matrix is copied, not written
    np.testing.assert_array_equal(pu._log_scaled(frozen), want)

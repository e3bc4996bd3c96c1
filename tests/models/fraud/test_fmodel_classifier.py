"""FraudClassifier: calibration on held-out rows, early stopping on the given set, reasons."""

from __future__ import annotations

import pickle
from typing import Any

import lightgbm as lgb
import numpy as np
import polars as pl
import pytest
from sklearn.base import clone

from models.fraud import calibration as calibration_module
from models.fraud.classifier import FraudClassifier
from models.metrics import average_precision

FAST: dict[str, Any] = {
    "n_estimators": 200,
    "learning_rate": 0.1,
    "num_leaves": 7,
    "n_jobs": 1,
    "eval_metric": "average_precision",
}


def synthetic(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """A rare positive class (about 5 %) driven by two features and an interaction."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 5))
    logit = 2.0 * x[:, 0] - 1.0 * x[:, 1] + x[:, 2] * x[:, 3] - 4.0
    y = (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(np.int8)
    return x, y


@pytest.fixture(scope="module")
def data() -> dict[str, tuple[np.ndarray, np.ndarray]]:
    return {
        "train": synthetic(6000, 1),
        "eval": synthetic(3000, 2),
        "calib": synthetic(3000, 3),
        "test": synthetic(8000, 4),
    }


@pytest.mark.parametrize("method", ["sigmoid", "isotonic"])
def test_calibrated_mean_matches_the_observed_rate(data: dict, method: str) -> None:
    # Weighting the frauds up makes the booster's own probabilities far too high.
    params = {**FAST, "scale_pos_weight": 8.0}
    raw = FraudClassifier(**params, calibration=None).fit(*data["train"], eval_set=data["eval"])
    model = FraudClassifier(**params, calibration=method).fit(
        *data["train"], eval_set=data["eval"], calibration_set=data["calib"]
    )
    x, y = data["test"]
    observed = y.mean()
    assert raw.predict_proba(x)[:, 1].mean() > 2 * observed
    p = model.predict_proba(x)[:, 1]
    assert p.mean() == pytest.approx(observed, rel=0.15)
    assert ((p >= 0) & (p <= 1)).all()
    # Within the riskiest decile the predicted rate still matches what happens.
    top = p >= np.quantile(p, 0.9)
    assert p[top].mean() == pytest.approx(y[top].mean(), rel=0.25)


def test_platt_keeps_the_ranking(data: dict) -> None:
    model = FraudClassifier(**FAST).fit(*data["train"], eval_set=data["eval"])
    x = data["test"][0]
    margin, p = model.decision_function(x), model.predict_proba(x)[:, 1]
    assert (np.argsort(margin, kind="stable") == np.argsort(p, kind="stable")).all()
    assert model.calibrator_.params["slope"] > 0


def test_calibration_never_sees_training_rows(data: dict, monkeypatch: pytest.MonkeyPatch) -> None:
    trained_on, calibrated_on = [], []
    real_train, real_fit = lgb.train, calibration_module.Calibrator.fit

    def spy_train(params: dict, train_set: lgb.Dataset, **kw: Any) -> lgb.Booster:
        trained_on.append(len(train_set.get_label()))
        return real_train(params, train_set, **kw)

    def spy_fit(self: Any, margin: np.ndarray, y: np.ndarray) -> Any:
        calibrated_on.append(np.asarray(y).copy())
        return real_fit(self, margin, y)

    monkeypatch.setattr(lgb, "train", spy_train)
    monkeypatch.setattr(calibration_module.Calibrator, "fit", spy_fit)
    FraudClassifier(**FAST).fit(
        *data["train"], eval_set=data["eval"], calibration_set=data["calib"]
    )
    assert trained_on == [len(data["train"][1])]
    assert len(calibrated_on) == 1 and (calibrated_on[0] == data["calib"][1]).all()
    # Without a calibration set it falls back to the eval set, never to the training rows.
    calibrated_on.clear()
    FraudClassifier(**FAST).fit(*data["train"], eval_set=data["eval"])
    assert (calibrated_on[0] == data["eval"][1]).all()


def test_refuses_to_calibrate_on_training_rows(data: dict) -> None:
    x, y = data["train"]
    with pytest.raises(ValueError, match="held-out"):
        FraudClassifier(**FAST).fit(x, y, eval_set=(x, y))
    with pytest.raises(ValueError, match="calibration needs held-out rows"):
        FraudClassifier(**FAST).fit(x, y)
    FraudClassifier(**FAST, calibration=None).fit(x, y)  # raw probabilities: allowed


def test_early_stopping_scores_the_given_set(data: dict) -> None:
    model = FraudClassifier(**FAST, early_stopping_rounds=20).fit(
        *data["train"], eval_set=data["eval"]
    )
    curve = model.evals_result_["eval"]["average_precision"]
    best = model.best_iteration_
    assert best == int(np.argmax(curve)) + 1  # the best round on the eval set is kept
    assert len(curve) <= best + 20  # and it stopped 20 rounds later, or at the end
    x, y = data["eval"]
    assert curve[best - 1] == pytest.approx(average_precision(y, model.decision_function(x)))
    # An eval set with no signal stops almost at once; a real one goes on.
    noise = (x, np.random.default_rng(9).permutation(y))
    early = FraudClassifier(**FAST, early_stopping_rounds=10, calibration=None)
    early.fit(*data["train"], eval_set=noise)
    assert early.best_iteration_ < best


def test_without_eval_set_every_round_runs(data: dict) -> None:
    model = FraudClassifier(**{**FAST, "n_estimators": 30}, calibration=None).fit(*data["train"])
    assert model.best_iteration_ == 30 and model.booster_.num_trees() == 30


def test_contributions_and_reasons(data: dict) -> None:
    names = [f"f{i}" for i in range(5)]
    frame = pl.DataFrame(data["train"][0], schema=names)
    eval_frame = pl.DataFrame(data["eval"][0], schema=names)
    model = FraudClassifier(**FAST).fit(
        frame, data["train"][1], eval_set=(eval_frame, data["eval"][1])
    )
    test = pl.DataFrame(data["test"][0], schema=names).with_columns(extra=pl.lit(1.0))
    contrib = model.feature_contributions(test)
    assert contrib.shape == (test.height, 6)
    assert contrib.sum(axis=1) == pytest.approx(model.decision_function(test), abs=1e-6)
    # The riskiest row's reasons come from the features that drive the class, largest first.
    risky = test[int(np.argmax(model.decision_function(test)))]
    reasons = model.top_reasons(risky, k=2)[0]
    assert reasons[0][0] in {"f0", "f1", "f2", "f3"} and reasons[0][1] >= reasons[-1][1] > 0
    assert list(model.feature_names_in_) == names


def test_scikit_learn_conventions(data: dict) -> None:
    model = FraudClassifier(num_leaves=5, calibration="isotonic")
    assert clone(model).get_params()["num_leaves"] == 5
    assert model.get_params()["calibration"] == "isotonic"
    with pytest.raises(RuntimeError, match="not fitted"):
        model.predict_proba(data["test"][0])
    x = pl.DataFrame(data["train"][0], schema=[f"f{i}" for i in range(5)])
    x = x.with_columns(pl.when(pl.col("f4") > 1).then(None).otherwise(pl.col("f4")).alias("f4"))
    ev = pl.DataFrame(data["eval"][0], schema=[f"f{i}" for i in range(5)])
    fitted = FraudClassifier(**FAST).fit(x, data["train"][1], eval_set=(ev, data["eval"][1]))
    assert fitted.predict(ev).dtype == np.int8
    again = pickle.loads(pickle.dumps(fitted))  # how a model registry stores it
    assert (again.predict_proba(ev) == fitted.predict_proba(ev)).all()
    with pytest.raises(ValueError, match="lacks the features"):
        fitted.predict_proba(ev.drop("f4"))

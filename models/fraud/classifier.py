"""``FraudClassifier``: LightGBM (binary) with early stopping and calibration on held-out rows.

The caller owns every split, because only the caller knows time: ``fit`` trains on ``X, y``,
stops early on ``eval_set`` (rows that come after the training rows, ideally past a label-delay
gap) and calibrates on ``calibration_set`` (default: the ``eval_set``). Neither ever comes from the
training rows, which a booster has memorised: calibrating on them makes every probability too
confident. See ``calibration`` for why Platt scaling is the default.

``X`` may be a numpy array, a pandas or a polars DataFrame; from a frame the column names are
kept (``feature_names_in_``) and later frames are read by name, so extra columns do no harm.
Nulls become NaN, which LightGBM treats as missing.
"""

from __future__ import annotations

from typing import Any, Self

import lightgbm as lgb
import numpy as np
import polars as pl
from sklearn.base import BaseEstimator, ClassifierMixin

from models.fraud.calibration import Calibrator, Method

XY = tuple[Any, Any]


def _matrix(X: Any, names: list[str] | None = None) -> tuple[np.ndarray, list[str] | None]:
    """Float64 matrix and column names (None for arrays); read by ``names`` when given a frame."""
    columns = getattr(X, "columns", None)
    if columns is None:
        return np.asarray(X, dtype=np.float64), None
    columns = [str(c) for c in columns]
    if names is not None:
        missing = [n for n in names if n not in columns]
        if missing:
            raise ValueError(f"X lacks the features the model was fitted on: {missing}")
        X, columns = X[names], names
    if isinstance(X, pl.DataFrame):  # nulls must become NaN, so go through floats
        return X.select(pl.all().cast(pl.Float64)).to_numpy(), columns
    return np.asarray(X, dtype=np.float64), columns


def _dense(out: object) -> np.ndarray:
    """A booster prediction as the array it is: LightGBM answers with sparse matrices only for
    sparse input, and ``_matrix`` always hands it a dense one."""
    if not isinstance(out, np.ndarray):
        raise TypeError(f"expected a dense prediction, got {type(out).__name__}")
    return out


def _threads(n_jobs: int | None) -> int:
    """scikit-learn's convention (None: 1, -1: every core) in LightGBM's (0: every core).
    One thread by default: OpenMP threads that spin waiting for each other on a machine busy
    with other work made a fit sixty times slower here than a single thread."""
    if n_jobs is None:
        return 1
    return 0 if n_jobs < 0 else n_jobs


def _labels(y: Any) -> np.ndarray:
    y = np.asarray(y).ravel()
    if not np.isin(y, (0, 1)).all():
        raise ValueError("y must hold only 0 and 1")
    return y.astype(np.int8)


class FraudClassifier(ClassifierMixin, BaseEstimator):
    """Gradient-boosted trees for a rare positive class, with probabilities one can act on.

    Hyper-parameters follow LightGBM's scikit-learn names. ``n_estimators`` is the most rounds:
    with an ``eval_set`` training stops after ``early_stopping_rounds`` rounds without
    improvement of ``eval_metric`` on it and keeps the best round; without one it runs them all.
    ``eval_metric`` is any LightGBM metric; log loss by default, a proper scoring rule, since
    the probabilities are what ships (``average_precision`` when only the ranking matters).
    ``calibration=None`` leaves ``predict_proba`` as the booster's own (uncalibrated) output.
    """

    def __init__(
        self,
        *,
        n_estimators: int = 1000,
        learning_rate: float = 0.05,
        num_leaves: int = 15,
        max_depth: int = -1,
        min_child_samples: int = 50,
        subsample: float = 1.0,
        subsample_freq: int = 0,
        colsample_bytree: float = 1.0,
        reg_alpha: float = 0.0,
        reg_lambda: float = 0.0,
        scale_pos_weight: float = 1.0,
        early_stopping_rounds: int = 50,
        eval_metric: str = "binary_logloss",
        calibration: Method | None = "sigmoid",
        random_state: int = 0,
        n_jobs: int | None = None,
    ) -> None:
        self.n_estimators = n_estimators
        self.learning_rate = learning_rate
        self.num_leaves = num_leaves
        self.max_depth = max_depth
        self.min_child_samples = min_child_samples
        self.subsample = subsample
        self.subsample_freq = subsample_freq
        self.colsample_bytree = colsample_bytree
        self.reg_alpha = reg_alpha
        self.reg_lambda = reg_lambda
        self.scale_pos_weight = scale_pos_weight
        self.early_stopping_rounds = early_stopping_rounds
        self.eval_metric = eval_metric
        self.calibration = calibration
        self.random_state = random_state
        self.n_jobs = n_jobs

    def _booster_params(self) -> dict[str, Any]:
        return {
            "objective": "binary",
            "metric": self.eval_metric,
            "learning_rate": self.learning_rate,
            "num_leaves": self.num_leaves,
            "max_depth": self.max_depth,
            "min_data_in_leaf": self.min_child_samples,
            "bagging_fraction": self.subsample,
            "bagging_freq": self.subsample_freq,
            "feature_fraction": self.colsample_bytree,
            "lambda_l1": self.reg_alpha,
            "lambda_l2": self.reg_lambda,
            "scale_pos_weight": self.scale_pos_weight,
            "seed": self.random_state,
            "num_threads": _threads(self.n_jobs),
            # same data, same model: runs compared in MLflow must differ for a reason
            "deterministic": True,
            "force_row_wise": True,
            "verbosity": -1,
        }

    def fit(
        self,
        X: Any,
        y: Any,
        *,
        eval_set: XY | None = None,
        calibration_set: XY | None = None,
    ) -> Self:
        """Train on ``X, y``; stop early on ``eval_set``; calibrate on ``calibration_set``.

        ``calibration_set`` defaults to ``eval_set``; with neither, ``calibration`` must be None.
        """
        if any(rows is not None and rows[0] is X for rows in (eval_set, calibration_set)):
            raise ValueError("eval_set and calibration_set must be held-out rows, not X itself")
        matrix, names = _matrix(X)
        labels = _labels(y)
        if labels.sum() == 0:
            raise ValueError("y has no positive rows: nothing to learn")
        self.feature_names_in_ = np.array(names, dtype=object) if names is not None else None
        self.n_features_in_ = matrix.shape[1]
        self.classes_ = np.array([0, 1])
        train = lgb.Dataset(matrix, labels, feature_name=names or "auto", free_raw_data=True)
        callbacks, valid_sets = [], []
        self.evals_result_: dict[str, Any] = {}
        if eval_set is not None:
            valid_x, valid_y = self._held_out(eval_set)
            valid_sets = [lgb.Dataset(valid_x, valid_y, reference=train)]
            callbacks = [lgb.record_evaluation(self.evals_result_)]
            if self.early_stopping_rounds > 0:
                callbacks.append(lgb.early_stopping(self.early_stopping_rounds, verbose=False))
        self.booster_ = lgb.train(
            self._booster_params(),
            train,
            num_boost_round=self.n_estimators,
            valid_sets=valid_sets,
            valid_names=["eval"][: len(valid_sets)],
            callbacks=callbacks,
        )
        best = self.booster_.best_iteration
        self.best_iteration_ = best if best > 0 else self.booster_.current_iteration()
        self.calibrator_ = self._calibrate(calibration_set or eval_set)
        return self

    def _held_out(self, rows: XY) -> tuple[np.ndarray, np.ndarray]:
        names = None if self.feature_names_in_ is None else list(self.feature_names_in_)
        return _matrix(rows[0], names)[0], _labels(rows[1])

    def _calibrate(self, rows: XY | None) -> Calibrator | None:
        if self.calibration is None:
            return None
        if rows is None:
            raise ValueError(
                "calibration needs held-out rows: pass calibration_set or eval_set "
                "(or calibration=None for the booster's raw probabilities)"
            )
        x, y = self._held_out(rows)
        return Calibrator(self.calibration).fit(self._margin(x), y)

    def _margin(self, matrix: np.ndarray) -> np.ndarray:
        return _dense(
            self.booster_.predict(matrix, raw_score=True, num_iteration=self.best_iteration_)
        )

    def _read(self, X: Any) -> np.ndarray:
        if not hasattr(self, "booster_"):
            raise RuntimeError("FraudClassifier is not fitted")
        names = None if self.feature_names_in_ is None else list(self.feature_names_in_)
        matrix = _matrix(X, names)[0]
        if matrix.ndim != 2 or matrix.shape[1] != self.n_features_in_:
            raise ValueError(f"X must have {self.n_features_in_} features, not {matrix.shape}")
        return matrix

    def decision_function(self, X: Any) -> np.ndarray:
        """The booster's raw score (log-odds before calibration): the ranking itself."""
        return self._margin(self._read(X))

    def predict_proba(self, X: Any) -> np.ndarray:
        """(n, 2): probabilities of genuine and of fraud, calibrated unless ``calibration=None``."""
        margin = self.decision_function(X)
        if self.calibrator_ is None:
            p = 1.0 / (1.0 + np.exp(-margin))
        else:
            p = self.calibrator_.transform(margin)
        return np.column_stack([1.0 - p, p])

    def predict(self, X: Any) -> np.ndarray:
        return (self.predict_proba(X)[:, 1] >= 0.5).astype(np.int8)

    def feature_contributions(self, X: Any) -> np.ndarray:
        """(n, n_features + 1): each feature's additive share of the raw score (SHAP values from
        LightGBM's ``pred_contrib``), the last column the expected score; rows sum to
        ``decision_function``. In log-odds, before calibration."""
        matrix = self._read(X)
        return _dense(
            self.booster_.predict(matrix, pred_contrib=True, num_iteration=self.best_iteration_)
        )

    def top_reasons(self, X: Any, k: int = 3) -> list[list[tuple[str, float]]]:
        """Per row, up to ``k`` (feature, contribution) pairs that pushed the score up the most,
        largest first; features that lowered the risk are not reasons."""
        contrib = self.feature_contributions(X)[:, :-1]
        names = (
            list(self.feature_names_in_)
            if self.feature_names_in_ is not None
            else [f"f{i}" for i in range(self.n_features_in_)]
        )
        order = np.argsort(-contrib, axis=1, kind="stable")[:, :k]
        return [
            [(names[j], float(row[j])) for j in idx if row[j] > 0]
            for row, idx in zip(contrib, order, strict=True)
        ]

    @property
    def feature_importances_(self) -> np.ndarray:
        """Total gain per feature over the rounds kept."""
        return self.booster_.feature_importance("gain", iteration=self.best_iteration_)

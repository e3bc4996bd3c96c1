"""The platform's risk model: learn from the few labels without taking the unlabelled for honest.

Observed labels cover a small, biased share of the fraud (the rest is simply not found yet), so
the model is built from three parts, each of which holds up where the others are blind:

- **PU boosting.** LightGBM separates labelled positives from *unlabelled* rows (not "honest"
  ones), cross-fitted over user-hash folds: every training row is scored by a model that never
  saw its user, which is what the blend and the calibration are fitted on. The released model
  averages the fold models (a bag), with a fixed number of small trees, so there is no early
  stopping for a handful of positives to collapse.
- **Anomaly.** An IsolationForest over the same behaviour features (log-scaled) scores how unlike
  everyone else an account behaves: it needs no label, so it sees the typologies nobody has
  labelled yet. Its percentile is one more input of the trees (``anomaly_input``), which learn
  where strangeness means fraud and where it means a busy honest seller; it also picks the
  reliable negatives (the strangest unlabelled rows are not taught as honest).
- **Calibration.** The trees' out-of-fold percentile (optionally blended with the anomaly
  percentile, ``anomaly_weight``) is Platt-scaled to the chance of being *labelled*, ``g``, and
  turned into the chance of being fraud with Elkan and Noto's label frequency ``c`` (the mean
  ``g`` of labelled positives): ``g / (c + g (1 - c))``, which is ``g / c`` for small ``g`` and
  stays below 1 without clipping (clipping would make the head of the queue one tie).
"""

from __future__ import annotations

import hashlib
from typing import Any

import lightgbm as lgb
import numpy as np
import polars as pl
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.ensemble import IsolationForest
from sklearn.linear_model import LogisticRegression


def user_folds(users: pl.Series | list[str], folds: int) -> np.ndarray:
    """A stable fold per user (sha256 of the id), the same in every run and on every machine."""
    return np.array(
        [hashlib.sha256(str(u).encode()).digest()[0] % folds for u in users], dtype=np.int64
    )


def _percentile(reference: np.ndarray, values: np.ndarray) -> np.ndarray:
    """Where ``values`` fall in the sorted ``reference``, in [0, 1], interpolated (no steps)."""
    ranks = np.linspace(0.0, 1.0, len(reference))
    return np.interp(values, reference, ranks)


_LOG_ROWS = 1 << 14  # rows per block of _log_scaled's temporaries


def _log_scaled(x: np.ndarray) -> np.ndarray:
    """Heavy-tailed counts and amounts on one scale for the forest; missing as 0.

    In place on ``x`` (a matrix made for this call), a block of rows at a time: the plain
    ``sign(x) * log1p(abs(x))`` makes three temporaries the size of the matrix (+1.2 GB over a
    180,000 x 300 one; +0.1 GB in blocks), and that was ``fraud_model``'s high-water mark.
    """
    out = x if x.flags.writeable else x.copy()
    for start in range(0, len(out), _LOG_ROWS):
        block = out[start : start + _LOG_ROWS]
        scaled = np.log1p(np.abs(block))
        np.copysign(scaled, block, out=block)
        np.nan_to_num(block, copy=False, nan=0.0)
    return out


def _predict(booster: lgb.Booster, matrix: np.ndarray, **kwargs: Any) -> np.ndarray:
    """A booster's dense output (LightGBM's stubs allow sparse ones too)."""
    return np.asarray(booster.predict(matrix, **kwargs), dtype=np.float64)


class RiskModel(ClassifierMixin, BaseEstimator):
    """PU LightGBM bag + IsolationForest, blended and calibrated (see the module docstring).

    ``fit(X, y, groups=user_ids, sample_weight=w)``: ``y`` is 1 for rows whose user was labelled
    fraud soon after, 0 for the rest (unlabelled, not honest); ``w`` weighs each row (a noisy
    label's estimated precision; the unlabelled rows' sampling rate). ``anomaly_input`` feeds the
    anomaly percentile to the trees; ``anomaly_weight`` is its share of a percentile blend after
    them; ``anomaly_features`` limits the forest to some columns (all when None).
    """

    # Models pickled before the anomaly became an input have no such attribute: they blend.
    anomaly_input: bool = False

    def __init__(
        self,
        *,
        folds: int = 5,
        n_estimators: int = 300,
        learning_rate: float = 0.03,
        num_leaves: int = 15,
        min_child_samples: int = 20,
        colsample_bytree: float = 0.7,
        subsample: float = 0.8,
        reg_lambda: float = 1.0,
        anomaly_weight: float = 0.5,
        anomaly_input: bool = False,
        anomaly_features: list[str] | None = None,
        anomaly_max_rows: int = 50_000,
        reliable_below: float = 0.95,
        random_state: int = 0,
        n_jobs: int = 2,
    ) -> None:
        self.folds = folds
        self.n_estimators = n_estimators
        self.learning_rate = learning_rate
        self.num_leaves = num_leaves
        self.min_child_samples = min_child_samples
        self.colsample_bytree = colsample_bytree
        self.subsample = subsample
        self.reg_lambda = reg_lambda
        self.anomaly_weight = anomaly_weight
        self.anomaly_input = anomaly_input
        self.anomaly_features = anomaly_features
        self.anomaly_max_rows = anomaly_max_rows
        self.reliable_below = reliable_below
        self.random_state = random_state
        self.n_jobs = n_jobs

    def _params(self) -> dict[str, Any]:
        return {
            "objective": "binary",
            "learning_rate": self.learning_rate,
            "num_leaves": self.num_leaves,
            "min_data_in_leaf": self.min_child_samples,
            "feature_fraction": self.colsample_bytree,
            "bagging_fraction": self.subsample,
            "bagging_freq": 1,
            "lambda_l2": self.reg_lambda,
            "seed": self.random_state,
            "num_threads": self.n_jobs,
            "deterministic": True,
            "force_row_wise": True,
            "verbosity": -1,
        }

    def _matrix(self, X: pl.DataFrame, names: list[str]) -> np.ndarray:
        return X.select(names).cast(pl.Float64).to_numpy()

    def fit(
        self, X: pl.DataFrame, y: Any, *, groups: Any, sample_weight: Any | None = None
    ) -> RiskModel:
        self.feature_names_in_ = list(X.columns)
        self.n_features_in_ = len(self.feature_names_in_)
        self.classes_ = np.array([0, 1])
        target = np.asarray(y, dtype=np.int64)
        weight = np.ones(len(target)) if sample_weight is None else np.asarray(sample_weight)
        matrix = self._matrix(X, self.feature_names_in_)
        self.anomaly_names_ = list(self.anomaly_features or self.feature_names_in_)
        behaviour = _log_scaled(self._matrix(X, self.anomaly_names_))
        self.forest_ = IsolationForest(
            n_estimators=200,
            max_samples=min(256, len(behaviour)),
            random_state=self.random_state,
            n_jobs=self.n_jobs,
        )
        rng = np.random.default_rng(self.random_state)
        fit_rows = rng.permutation(len(behaviour))[: self.anomaly_max_rows]
        self.forest_.fit(behaviour[fit_rows])
        anomaly = -self.forest_.score_samples(behaviour)
        self.anomaly_reference_ = np.sort(anomaly)
        # Unlabelled rows stranger than ``reliable_below`` of all are left out of the negatives:
        # nobody labelled them, but they may well be fraud (two-step PU, "reliable negatives"),
        # and teaching the trees that they are honest would bury what only the forest sees.
        reliable = (target == 1) | (
            _percentile(self.anomaly_reference_, anomaly) < self.reliable_below
        )
        matrix = self._with_anomaly(matrix, anomaly)
        self.input_names_ = self._input_names()  # the trees' columns (importances are over them)
        fold = user_folds(list(groups), self.folds)
        oof = np.zeros(len(target))
        self.boosters_: list[lgb.Booster] = []
        for k in range(self.folds):
            train = (fold != k) & reliable
            data = lgb.Dataset(
                matrix[train],
                target[train],
                weight=weight[train],
                feature_name=self._input_names(),
            )
            booster = lgb.train(self._params(), data, num_boost_round=self.n_estimators)
            oof[fold == k] = _predict(booster, matrix[fold == k])
            self.boosters_.append(booster)
        self.supervised_reference_ = np.sort(oof)
        blend = self._blend(oof, anomaly)
        self.calibrator_ = LogisticRegression(C=1e4).fit(
            blend.reshape(-1, 1), target, sample_weight=weight
        )
        labelled = self.calibrator_.predict_proba(blend.reshape(-1, 1))[:, 1]
        positive = target == 1
        self.label_frequency_ = (
            float(np.average(labelled[positive], weights=weight[positive]))
            if positive.any()
            else 1.0
        )
        self.oof_supervised_, self.oof_anomaly_, self.oof_blend_ = oof, anomaly, blend
        self.oof_risk_ = self._risk(labelled)
        return self

    def _anomaly(self, X: pl.DataFrame) -> np.ndarray:
        return -self.forest_.score_samples(_log_scaled(self._matrix(X, self.anomaly_names_)))

    def _input_names(self) -> list[str]:
        return [*self.feature_names_in_, *(["anomaly_percentile"] if self.anomaly_input else [])]

    def _with_anomaly(self, matrix: np.ndarray, anomaly: np.ndarray) -> np.ndarray:
        if not self.anomaly_input:
            return matrix
        return np.column_stack([matrix, _percentile(self.anomaly_reference_, anomaly)])

    def _blend(self, supervised: np.ndarray, anomaly: np.ndarray) -> np.ndarray:
        w = self.anomaly_weight
        return (1 - w) * _percentile(self.supervised_reference_, supervised) + w * _percentile(
            self.anomaly_reference_, anomaly
        )

    def _risk(self, labelled: np.ndarray) -> np.ndarray:
        c = self.label_frequency_
        return labelled / (c + labelled * (1 - c))

    def _by_user(self, matrix: np.ndarray, users: Any | None, **kwargs: Any) -> np.ndarray:
        """The boosters' output for each row: by the fold model that never saw the row's user
        (a user the bag was trained on as "unlabelled" would otherwise be scored by trees that
        learned them as a negative), or, without ``users``, the bag's mean."""
        if users is None:
            return np.mean([_predict(b, matrix, **kwargs) for b in self.boosters_], axis=0)
        fold = user_folds(list(users), self.folds)
        out: np.ndarray | None = None
        for k, booster in enumerate(self.boosters_):
            rows = fold == k
            if rows.any():
                part = _predict(booster, matrix[rows], **kwargs)
                if out is None:
                    out = np.zeros((len(matrix), *part.shape[1:]))
                out[rows] = part
        return out if out is not None else np.zeros(len(matrix))

    def parts(self, X: pl.DataFrame, *, users: Any | None = None) -> dict[str, np.ndarray]:
        """Each part's score for ``X``: ``supervised``, ``anomaly`` (and its percentile), their
        ``blend`` in [0, 1] and the calibrated ``risk``. ``users`` (the rows' user ids) scores
        each row by its user's out-of-fold model; without them, by the bag's mean."""
        anomaly = self._anomaly(X)
        matrix = self._with_anomaly(self._matrix(X, self.feature_names_in_), anomaly)
        supervised = self._by_user(matrix, users)
        blend = self._blend(supervised, anomaly)
        labelled = self.calibrator_.predict_proba(blend.reshape(-1, 1))[:, 1]
        return {
            "supervised": supervised,
            "anomaly": anomaly,
            "anomaly_percentile": _percentile(self.anomaly_reference_, anomaly),
            "supervised_percentile": _percentile(self.supervised_reference_, supervised),
            "blend": blend,
            "risk": self._risk(labelled),
        }

    def predict_proba(self, X: pl.DataFrame) -> np.ndarray:
        risk = self.parts(X)["risk"]
        return np.column_stack([1 - risk, risk])

    def predict(self, X: pl.DataFrame) -> np.ndarray:
        return (self.predict_proba(X)[:, 1] >= 0.5).astype(np.int64)

    def feature_contributions(
        self, X: pl.DataFrame, *, users: Any | None = None, anomaly: np.ndarray | None = None
    ) -> np.ndarray:
        """Per-feature log-odds contributions of the supervised part (rows x features, then the
        anomaly percentile's when it is an input, then the bias), from the model(s) of
        :meth:`parts`. ``anomaly``: the forest's scores of ``X`` when the caller has them
        (``parts(X)["anomaly"]``), so the forest is not run twice."""
        matrix = self._matrix(X, self.feature_names_in_)
        if self.anomaly_input:
            if anomaly is None:
                anomaly = self._anomaly(X)
            matrix = self._with_anomaly(matrix, anomaly)
        return self._by_user(matrix, users, pred_contrib=True)

    @property
    def feature_importances_(self) -> np.ndarray:
        return np.mean(
            [b.feature_importance(importance_type="gain") for b in self.boosters_], axis=0
        )

"""The listing search ranker: LightGBM lambdarank over searches, with a trust policy.

Input frames are ``features.search.search_groups`` (one row per listing shown, ordered by
``group_id``); labels are 1 for the listing ordered from the search, 0 otherwise. The position
a listing was shown at is a training feature (it explains part of the orders: position bias)
and is set to 0 for every prediction, so the model ranks by what is left.

Trust works as features (seller trust, fraud risk, reviews, disputes, account age, price
against the category median) and as a policy applied by ``predict``, whatever the model learnt:
listings of flagged sellers (banned or confirmed fraud) get ``-inf`` (removed), those of sellers
whose trust is below ``min_trust`` or whose fraud risk is above ``max_fraud_risk`` are demoted by
``log(low_trust_factor) / sigmoid_scale`` (their odds of being ranked above any other listing
times ``low_trust_factor``). Unknown trust or risk is not low. ``serving.search.rank`` applies
the same policy online from the parameters a release publishes.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import lightgbm as lgb
import numpy as np
import polars as pl
from numpy.typing import NDArray
from sklearn.base import BaseEstimator

from features.search import SEARCH_FEATURES
from models.feed.ranker import group_sizes

POSITION = "search_position"  # a training feature only: every prediction is made at position 0
DEFAULT_FEATURES = (*SEARCH_FEATURES, POSITION)


class NoSearchesToLearn(ValueError):
    """No search with two listings and an order: nothing to train on (a new platform)."""


def _matrix(frame: pl.DataFrame, features: tuple[str, ...]) -> NDArray[np.float64]:
    missing = [c for c in features if c not in frame.columns]
    if missing:
        raise KeyError(f"missing feature columns: {missing}")
    return frame.select(pl.col(c).cast(pl.Float64) for c in features).to_numpy()


class SearchRanker(BaseEstimator):
    """``fit(X, *, eval_set=None)`` on labelled search groups; ``predict`` scores with the
    policy, ``predict_raw`` without. Groups without an order or with one listing carry no
    gradient and are left out of training."""

    def __init__(
        self,
        *,
        features: tuple[str, ...] = DEFAULT_FEATURES,
        n_estimators: int = 1000,
        learning_rate: float = 0.05,
        num_leaves: int = 15,
        min_child_samples: int = 50,
        reg_lambda: float = 5.0,
        early_stopping_rounds: int = 50,
        k: int = 10,
        sigmoid_scale: float = 1.0,
        min_trust: float = 0.05,
        max_fraud_risk: float = 0.5,
        low_trust_factor: float = 0.1,
        random_state: int = 0,
        n_jobs: int = 1,
    ) -> None:
        self.features = features
        self.n_estimators = n_estimators
        self.learning_rate = learning_rate
        self.num_leaves = num_leaves
        self.min_child_samples = min_child_samples
        self.reg_lambda = reg_lambda
        self.early_stopping_rounds = early_stopping_rounds
        self.k = k
        self.sigmoid_scale = sigmoid_scale
        self.min_trust = min_trust
        self.max_fraud_risk = max_fraud_risk
        self.low_trust_factor = low_trust_factor
        self.random_state = random_state
        self.n_jobs = n_jobs

    def _params(self) -> dict[str, Any]:
        return {
            "objective": "lambdarank",
            "metric": "ndcg",
            "eval_at": [self.k],
            "learning_rate": self.learning_rate,
            "num_leaves": self.num_leaves,
            "min_data_in_leaf": self.min_child_samples,
            "lambda_l2": self.reg_lambda,
            "sigmoid": self.sigmoid_scale,
            "seed": self.random_state,
            "deterministic": True,
            "force_col_wise": True,
            "num_threads": self.n_jobs,
            "verbosity": -1,
        }

    def _dataset(
        self, frame: pl.DataFrame, *, reference: lgb.Dataset | None = None
    ) -> tuple[lgb.Dataset, int]:
        labels = frame.get_column("label").to_numpy().astype(np.int64)
        sizes = group_sizes(frame.get_column("group_id"))
        gid = np.repeat(np.arange(sizes.size), sizes)
        positive = np.bincount(gid, weights=labels > 0, minlength=sizes.size) > 0
        keep = positive & (sizes >= 2)
        rows = keep[gid]
        dataset = lgb.Dataset(
            _matrix(frame.filter(pl.Series(rows)), tuple(self.features)),
            label=labels[rows],
            group=sizes[keep],
            feature_name=list(self.features),
            reference=reference,
        )
        return dataset, int(keep.sum())

    def fit(self, X: pl.DataFrame, *, eval_set: pl.DataFrame | None = None) -> SearchRanker:
        train, self.n_train_groups_ = self._dataset(X)
        if self.n_train_groups_ == 0:
            raise NoSearchesToLearn("no training search with two listings and an order")
        valid_sets: list[lgb.Dataset] = []
        callbacks: list[Callable[..., Any]] = []
        if eval_set is not None:
            valid, self.n_valid_groups_ = self._dataset(eval_set, reference=train)
            valid_sets = [valid]
            callbacks = [lgb.early_stopping(self.early_stopping_rounds, verbose=False)]
        self.booster_ = lgb.train(
            self._params(),
            train,
            num_boost_round=self.n_estimators,
            valid_sets=valid_sets,
            callbacks=callbacks,
        )
        self.best_iteration_ = self.booster_.best_iteration or self.booster_.current_iteration()
        self.feature_names_in_ = np.asarray(self.features, dtype=object)
        self.n_features_in_ = len(self.features)
        return self

    @property
    def feature_importances_(self) -> NDArray[np.float64]:
        return self.booster_.feature_importance("gain", iteration=self.best_iteration_)

    @property
    def demotion(self) -> float:
        factor = float(self.low_trust_factor)
        return -math.inf if factor <= 0 else math.log(factor) / float(self.sigmoid_scale)

    def predict_raw(self, X: pl.DataFrame) -> NDArray[np.float64]:
        """Scores before the policy, every listing as if shown first (the position it was
        shown at explains part of its orders; the ranker must not rank by it)."""
        if POSITION in self.features:
            X = X.with_columns(pl.lit(0.0).alias(POSITION))
        x = _matrix(X, tuple(self.features))
        return np.asarray(self.booster_.predict(x, num_iteration=self.best_iteration_))

    def policy_shift(self, X: pl.DataFrame) -> NDArray[np.float64]:
        """What the trust policy adds to each row's score: 0, the demotion, or -inf."""
        trust = X.get_column("seller_trust").cast(pl.Float64).fill_null(np.nan).to_numpy()
        risk = X.get_column("seller_fraud_risk").cast(pl.Float64).fill_null(np.nan).to_numpy()
        low = (np.nan_to_num(trust, nan=np.inf) < self.min_trust) | (
            np.nan_to_num(risk, nan=-np.inf) > self.max_fraud_risk
        )
        shift = np.where(low, self.demotion, 0.0)
        flagged = X.get_column("seller_flagged").cast(pl.Float64).fill_null(0.0).to_numpy()
        return np.where(flagged == 1.0, -np.inf, shift)

    def predict(self, X: pl.DataFrame) -> NDArray[np.float64]:
        return self.predict_raw(X) + self.policy_shift(X)

    def model_text(self) -> str:
        """The booster, cut at its best iteration, as LightGBM's text (what serving loads)."""
        return str(self.booster_.model_to_string(num_iteration=self.best_iteration_))

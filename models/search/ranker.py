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

import numpy as np
import polars as pl
from numpy.typing import NDArray

from features.search import SEARCH_FEATURES
from models.lambdarank.ranker import LambdaRanker, NothingToLearn

POSITION = "search_position"  # a training feature only: every prediction is made at position 0
DEFAULT_FEATURES = (*SEARCH_FEATURES, POSITION)


class NoSearchesToLearn(NothingToLearn):
    """No search with two listings and an order: nothing to train on (a new platform)."""


class SearchRanker(LambdaRanker):
    """``fit(X, *, eval_set=None)`` on labelled search groups (``LambdaRanker.fit``);
    ``predict`` scores with the policy, ``predict_raw`` without."""

    nothing_to_learn = NoSearchesToLearn
    nothing_to_learn_says = "no training search with two listings and an order"

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

    def predict_raw(self, X: pl.DataFrame) -> NDArray[np.float64]:
        """Scores before the policy, every listing as if shown first (the position it was
        shown at explains part of its orders; the ranker must not rank by it)."""
        if POSITION in self.features:
            X = X.with_columns(pl.lit(0.0).alias(POSITION))
        return super().predict_raw(X)

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

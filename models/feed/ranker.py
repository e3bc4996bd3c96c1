"""The feed ranker: LightGBM lambdarank over served feeds, with a trust policy at ranking time.

Input frames are what ``features.feed.training.labelled_groups`` makes (one row per candidate,
rows ordered by ``group_id``), extended by ``features.feed.history.history_features``. Labels
are the graded engagements (0 view, 1 like, 2 comment, 3 share); gains are ``2^label - 1``.

Trust works at two levels. As features: author trust, flags and trust-weighted engagement rates
let the model learn that ring-boosted engagement is worth little. As a policy applied by
``predict``, whatever the model learnt:

- ``flagged="remove"`` (default): posts of flagged authors (confirmed fraud or banned) get score
  ``-inf``; ``rank`` drops them. ``"demote"`` treats them like low-trust authors, ``"keep"``
  leaves them alone.
- Authors whose known trust is below ``min_trust`` are demoted: ``low_trust_factor`` multiplies
  their odds of being ranked above any other candidate. LambdaRank models
  ``P(i above j) = sigmoid(sigmoid_scale * (s_i - s_j))``, so this is a shift of the score by
  ``log(low_trust_factor) / sigmoid_scale``: scale-free, and 0 removes them too. Authors without
  a trust snapshot yet are not demoted: unknown is not low.

Defaults: on the simulated platform (``bench.feed``) authors below trust 0.05 are almost all
sybil-ring or spam-farm members, while the 10th percentile of honest authors is about 0.27. Ring
members write posts of ordinary quality that honest viewers like too, so demoting them costs
some NDCG: ``evaluate`` reports the model with and without the policy.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Literal

import lightgbm as lgb
import numpy as np
import polars as pl
from numpy.typing import ArrayLike, NDArray
from sklearn.base import BaseEstimator

from features.feed.history import HISTORY_FEATURES

# features.feed's numeric candidate columns (topic and ids are not features: the model should
# learn taste from the viewer's history, not which topics were popular in the training days).
BASE_FEATURES = (
    "has_link",
    "has_media",
    "text_length",
    "post_age_s",
    "post_views",
    "post_likes",
    "post_comments",
    "post_shares",
    "post_first_hour_views",
    "post_first_hour_engagements",
    "post_engagement_rate",
    "viewer_author_affinity",
    "viewer_author_engagements",
    "viewer_topic_affinity",
    "viewer_topic_share",
    "viewer_follows_author",
    "author_followers",
    "viewer_trusts_author",
    "author_trusts_viewer",
    "author_flagged",
    "author_trust",
)
DEFAULT_FEATURES = BASE_FEATURES + HISTORY_FEATURES
FlaggedPolicy = Literal["remove", "demote", "keep"]
EvalSet = pl.DataFrame | tuple[pl.DataFrame, ArrayLike, ArrayLike]


def group_sizes(group_ids: ArrayLike) -> NDArray[np.int64]:
    """Sizes of consecutive runs of ``group_ids``, in order: LightGBM's ``group``. Raises if a
    group's rows are not contiguous (LightGBM would silently mix feeds)."""
    ids = np.asarray(group_ids)
    if ids.size == 0:
        return np.zeros(0, dtype=np.int64)
    starts = np.flatnonzero(np.r_[True, ids[1:] != ids[:-1]])
    if np.unique(ids[starts]).size != starts.size:
        raise ValueError("rows must be ordered by group: a group_id appears in two runs")
    return np.diff(np.r_[starts, ids.size]).astype(np.int64)


def _matrix(frame: pl.DataFrame, features: tuple[str, ...]) -> NDArray[np.float64]:
    missing = [c for c in features if c not in frame.columns]
    if missing:
        raise KeyError(f"missing feature columns: {missing}")
    return frame.select(pl.col(c).cast(pl.Float64) for c in features).to_numpy()


def _labelled(
    data: EvalSet, y: ArrayLike | None = None, group: ArrayLike | None = None
) -> tuple[pl.DataFrame, NDArray[np.int64], NDArray[np.int64]]:
    if isinstance(data, tuple):
        data, y, group = data
    labels = np.asarray(data.get_column("label") if y is None else y, dtype=np.int64)
    sizes = (
        group_sizes(data.get_column("group_id"))
        if group is None
        else np.asarray(group, dtype=np.int64)
    )
    if sizes.sum() != data.height or labels.size != data.height:
        raise ValueError(f"{data.height} rows, {labels.size} labels, groups of {sizes.sum()}")
    return data, labels, sizes


def _informative(
    labels: NDArray[np.int64], sizes: NDArray[np.int64], keep: NDArray[np.bool_] | None = None
) -> tuple[NDArray[np.bool_], NDArray[np.bool_]]:
    """Row and group masks of the groups lambdarank can learn from: two or more candidates and
    at least one positive (other groups have zero gradient) and, if given, ``keep``."""
    gid = np.repeat(np.arange(sizes.size), sizes)
    positive = np.bincount(gid, weights=(labels > 0), minlength=sizes.size) > 0
    groups = positive & (sizes >= 2)
    if keep is not None:
        groups &= keep
    return groups[gid], groups


class FeedRanker(BaseEstimator):
    """LightGBM lambdarank over (viewer, request) groups, early-stopped on a later window.

    ``fit(X, y=None, *, group=None, eval_set=None)``: ``X`` a frame with the feature columns;
    labels default to ``X["label"]``, group sizes to the runs of ``X["group_id"]``. ``eval_set``
    (a frame with label and group_id, or ``(X, y, group)``) drives early stopping on NDCG@``k``.
    Groups of viewers whose trust is below ``min_viewer_trust`` are left out of training and of
    early stopping (their engagement is what rings fake: the ranker should not learn to please
    them); groups without a positive label or with one candidate carry no gradient and are left
    out too.
    """

    def __init__(
        self,
        *,
        features: tuple[str, ...] = DEFAULT_FEATURES,
        n_estimators: int = 2000,
        learning_rate: float = 0.03,
        num_leaves: int = 15,
        min_child_samples: int = 200,
        reg_lambda: float = 10.0,
        colsample_bytree: float = 0.8,
        subsample: float = 0.8,
        early_stopping_rounds: int = 100,
        k: int = 10,
        sigmoid_scale: float = 1.0,
        min_viewer_trust: float | None = 0.05,
        flagged: FlaggedPolicy = "remove",
        min_trust: float = 0.05,
        low_trust_factor: float = 0.1,
        random_state: int = 0,
        n_jobs: int | None = 1,
    ) -> None:
        self.features = features
        self.n_estimators = n_estimators
        self.learning_rate = learning_rate
        self.num_leaves = num_leaves
        self.min_child_samples = min_child_samples
        self.reg_lambda = reg_lambda
        self.colsample_bytree = colsample_bytree
        self.subsample = subsample
        self.early_stopping_rounds = early_stopping_rounds
        self.k = k
        self.sigmoid_scale = sigmoid_scale
        self.min_viewer_trust = min_viewer_trust
        self.flagged = flagged
        self.min_trust = min_trust
        self.low_trust_factor = low_trust_factor
        self.random_state = random_state
        self.n_jobs = n_jobs

    def _params(self) -> dict[str, Any]:
        params: dict[str, Any] = {
            "objective": "lambdarank",
            "metric": "ndcg",
            "eval_at": [self.k],
            "learning_rate": self.learning_rate,
            "num_leaves": self.num_leaves,
            "min_data_in_leaf": self.min_child_samples,
            "lambda_l2": self.reg_lambda,
            "feature_fraction": self.colsample_bytree,
            "bagging_fraction": self.subsample,
            "bagging_freq": 1 if self.subsample < 1.0 else 0,
            "sigmoid": self.sigmoid_scale,
            "seed": self.random_state,
            "deterministic": True,
            "force_col_wise": True,
            "verbosity": -1,
        }
        # One thread by default: with a few thousand small groups an iteration is too short for
        # OpenMP to pay off, and on a busy 2-core machine its spinning threads made fits 10-50x
        # slower than single-threaded ones.
        if self.n_jobs is not None:
            params["num_threads"] = self.n_jobs
        return params

    def _dataset(
        self,
        data: EvalSet,
        y: ArrayLike | None,
        group: ArrayLike | None,
        *,
        reference: lgb.Dataset | None = None,
    ) -> tuple[lgb.Dataset, int]:
        frame, labels, sizes = _labelled(data, y, group)
        keep = None
        if self.min_viewer_trust is not None and "viewer_trust" in frame.columns:
            first = np.r_[0, np.cumsum(sizes)[:-1]]
            trust = frame.get_column("viewer_trust").cast(pl.Float64).to_numpy()[first]
            keep = ~(trust < self.min_viewer_trust)  # unknown (NaN) viewers stay
        rows, groups = _informative(labels, sizes, keep)
        x = _matrix(frame.filter(pl.Series(rows)), tuple(self.features))
        dataset = lgb.Dataset(
            x,
            label=labels[rows],
            group=sizes[groups],
            feature_name=list(self.features),
            reference=reference,
        )
        return dataset, int(groups.sum())

    def fit(
        self,
        X: pl.DataFrame,
        y: ArrayLike | None = None,
        *,
        group: ArrayLike | None = None,
        eval_set: EvalSet | None = None,
    ) -> FeedRanker:
        train, self.n_train_groups_ = self._dataset(X, y, group)
        if self.n_train_groups_ == 0:
            raise ValueError("no training group with two candidates and a positive label")
        valid_sets: list[lgb.Dataset] = []
        callbacks: list[Callable[..., Any]] = []
        self.evals_result_: dict[str, Any] = {}
        if eval_set is not None:
            valid, self.n_valid_groups_ = self._dataset(eval_set, None, None, reference=train)
            valid_sets = [valid]
            callbacks = [
                lgb.early_stopping(self.early_stopping_rounds, verbose=False),
                lgb.record_evaluation(self.evals_result_),
            ]
        self.booster_ = lgb.train(
            self._params(),
            train,
            num_boost_round=self.n_estimators,
            valid_sets=valid_sets,
            valid_names=["valid"][: len(valid_sets)],
            callbacks=callbacks,
        )
        self.best_iteration_ = self.booster_.best_iteration or self.booster_.current_iteration()
        self.best_score_ = {name: dict(scores) for name, scores in self.booster_.best_score.items()}
        self.feature_names_in_ = np.asarray(self.features, dtype=object)
        self.n_features_in_ = len(self.features)
        return self

    @property
    def feature_importances_(self) -> NDArray[np.float64]:
        """Total gain per feature, in ``features`` order."""
        return self.booster_.feature_importance("gain", iteration=self.best_iteration_)

    def predict_raw(self, X: pl.DataFrame) -> NDArray[np.float64]:
        """The model's scores, before the trust policy. Comparable within a group only."""
        x = _matrix(X, tuple(self.features))
        return np.asarray(self.booster_.predict(x, num_iteration=self.best_iteration_))

    def policy_shift(self, X: pl.DataFrame) -> NDArray[np.float64]:
        """What the trust policy adds to each row's score: 0, a demotion, or -inf (removed)."""
        n = X.height
        shift = np.zeros(n)
        factor = float(self.low_trust_factor)
        demotion = -np.inf if factor <= 0 else np.log(factor) / self.sigmoid_scale
        trust = X.get_column("author_trust").cast(pl.Float64).to_numpy()
        shift[np.nan_to_num(trust, nan=np.inf) < self.min_trust] = demotion
        if self.flagged != "keep":
            flagged = X.get_column("author_flagged").fill_null(False).to_numpy().astype(bool)
            shift[flagged] = -np.inf if self.flagged == "remove" else demotion
        return shift

    def predict(self, X: pl.DataFrame) -> NDArray[np.float64]:
        """Ranking scores with the trust policy applied (higher first; -inf: removed)."""
        return self.predict_raw(X) + self.policy_shift(X)

    def rank(self, X: pl.DataFrame, *, group: str = "group_id") -> pl.DataFrame:
        """``X`` with ``score`` and 1-based ``rank`` per group, best first, removed rows gone."""
        scored = X.with_columns(score=pl.Series(self.predict(X)))
        return (
            scored.filter(pl.col("score") > -np.inf)
            .sort(group, "score", descending=[False, True], maintain_order=True)
            .with_columns(rank=pl.int_range(1, pl.len() + 1, dtype=pl.UInt32).over(group))
        )

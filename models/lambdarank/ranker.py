"""LightGBM lambdarank over groups of candidates: the part of ``models.feed.ranker.FeedRanker``
and ``models.search.ranker.SearchRanker`` that is the same.

Input frames hold one row per candidate, rows ordered by ``group_id``, a ``label`` column of
graded relevance (gain ``2^label - 1``) and the feature columns. A subclass declares its
hyper-parameters in ``__init__`` (scikit-learn reads them from the signature), may leave whole
groups out of training (``_keep_groups``) and applies its trust policy in ``policy_shift``.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any, ClassVar, Self

import lightgbm as lgb
import numpy as np
import polars as pl
from numpy.typing import ArrayLike, NDArray
from sklearn.base import BaseEstimator

EvalSet = pl.DataFrame | tuple[pl.DataFrame, ArrayLike, ArrayLike]


class NothingToLearn(ValueError):
    """No group with two candidates and a positive label: nothing to train on."""


def group_sizes(group_ids: ArrayLike) -> NDArray[np.int64]:
    """Sizes of consecutive runs of ``group_ids``, in order: LightGBM's ``group``. Raises if a
    group's rows are not contiguous (LightGBM would silently mix groups)."""
    ids = np.asarray(group_ids)
    if ids.size == 0:
        return np.zeros(0, dtype=np.int64)
    starts = np.flatnonzero(np.r_[True, ids[1:] != ids[:-1]])
    if np.unique(ids[starts]).size != starts.size:
        raise ValueError("rows must be ordered by group: a group_id appears in two runs")
    return np.diff(np.r_[starts, ids.size]).astype(np.int64)


def feature_matrix(frame: pl.DataFrame, features: tuple[str, ...]) -> NDArray[np.float64]:
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


class LambdaRanker(BaseEstimator):
    """Fit, early stopping on NDCG@``k``, raw scores and the demotion of the trust policy.

    Subclasses set, in ``__init__``: ``features``, ``n_estimators``, ``learning_rate``,
    ``num_leaves``, ``min_child_samples``, ``reg_lambda``, ``early_stopping_rounds``, ``k``,
    ``sigmoid_scale``, ``low_trust_factor``, ``random_state``, ``n_jobs``.
    """

    # What ``fit`` raises, and says, when no group is left to learn from.
    nothing_to_learn: ClassVar[type[NothingToLearn]] = NothingToLearn
    nothing_to_learn_says: ClassVar[str] = (
        "no training group with two candidates and a positive label"
    )

    features: tuple[str, ...]
    n_estimators: int
    learning_rate: float
    num_leaves: int
    min_child_samples: int
    reg_lambda: float
    early_stopping_rounds: int
    k: int
    sigmoid_scale: float
    low_trust_factor: float
    random_state: int
    n_jobs: int | None

    def _params(self) -> dict[str, Any]:
        params: dict[str, Any] = {
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
            "verbosity": -1,
        }
        # One thread by default: with a few thousand small groups an iteration is too short for
        # OpenMP to pay off, and on a busy 2-core machine its spinning threads made fits 10-50x
        # slower than single-threaded ones.
        if self.n_jobs is not None:
            params["num_threads"] = self.n_jobs
        return params

    def _keep_groups(
        self, frame: pl.DataFrame, sizes: NDArray[np.int64]
    ) -> NDArray[np.bool_] | None:
        """Groups to train and early-stop on (None: all that carry a gradient)."""
        return None

    def _dataset(
        self,
        data: EvalSet,
        y: ArrayLike | None,
        group: ArrayLike | None,
        *,
        reference: lgb.Dataset | None = None,
    ) -> tuple[lgb.Dataset, int]:
        frame, labels, sizes = _labelled(data, y, group)
        rows, groups = _informative(labels, sizes, self._keep_groups(frame, sizes))
        dataset = lgb.Dataset(
            feature_matrix(frame.filter(pl.Series(rows)), tuple(self.features)),
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
    ) -> Self:
        """``X`` a frame with the feature columns; labels default to ``X["label"]``, group sizes
        to the runs of ``X["group_id"]``. ``eval_set`` (a frame with label and group_id, or
        ``(X, y, group)``) drives early stopping on NDCG@``k``. Groups without a positive label
        or with one candidate carry no gradient and are left out."""
        train, self.n_train_groups_ = self._dataset(X, y, group)
        if self.n_train_groups_ == 0:
            raise self.nothing_to_learn(self.nothing_to_learn_says)
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

    @property
    def demotion(self) -> float:
        """The score shift that multiplies a candidate's odds of being ranked above any other
        by ``low_trust_factor``: LambdaRank models ``P(i above j) = sigmoid(sigmoid_scale *
        (s_i - s_j))``. ``-inf`` (removed) for a factor of 0."""
        factor = float(self.low_trust_factor)
        return -math.inf if factor <= 0 else math.log(factor) / float(self.sigmoid_scale)

    def predict_raw(self, X: pl.DataFrame) -> NDArray[np.float64]:
        """The model's scores, before the trust policy. Comparable within a group only."""
        x = feature_matrix(X, tuple(self.features))
        return np.asarray(self.booster_.predict(x, num_iteration=self.best_iteration_))

    def policy_shift(self, X: pl.DataFrame) -> NDArray[np.float64]:
        """What the trust policy adds to each row's score: 0, a demotion, or -inf (removed)."""
        raise NotImplementedError

    def predict(self, X: pl.DataFrame) -> NDArray[np.float64]:
        """Ranking scores with the trust policy applied (higher first; -inf: removed)."""
        return self.predict_raw(X) + self.policy_shift(X)

    def model_text(self) -> str:
        """The booster, cut at its best iteration, as LightGBM's text (what serving loads)."""
        return str(self.booster_.model_to_string(num_iteration=self.best_iteration_))

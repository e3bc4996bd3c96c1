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

from typing import Any, Literal

import numpy as np
import polars as pl
from numpy.typing import NDArray

from features.feed.history import HISTORY_FEATURES
from models.lambdarank.ranker import LambdaRanker

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


class FeedRanker(LambdaRanker):
    """LightGBM lambdarank over (viewer, request) groups, early-stopped on a later window
    (``LambdaRanker.fit``). Groups of viewers whose trust is below ``min_viewer_trust`` are left
    out of training and of early stopping (their engagement is what rings fake: the ranker
    should not learn to please them).
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
        return super()._params() | {
            "feature_fraction": self.colsample_bytree,
            "bagging_fraction": self.subsample,
            "bagging_freq": 1 if self.subsample < 1.0 else 0,
        }

    def _keep_groups(
        self, frame: pl.DataFrame, sizes: NDArray[np.int64]
    ) -> NDArray[np.bool_] | None:
        if self.min_viewer_trust is None or "viewer_trust" not in frame.columns:
            return None
        first = np.r_[0, np.cumsum(sizes)[:-1]]
        trust = frame.get_column("viewer_trust").cast(pl.Float64).to_numpy()[first]
        return ~(trust < self.min_viewer_trust)  # unknown (NaN) viewers stay

    def policy_shift(self, X: pl.DataFrame) -> NDArray[np.float64]:
        """What the trust policy adds to each row's score: 0, a demotion, or -inf (removed)."""
        n = X.height
        shift = np.zeros(n)
        factor = float(self.low_trust_factor)
        # numpy's log, as trained and measured: math.log (``self.demotion``, what serving
        # publishes) agrees at the defaults but differs in the last digit for a few factors.
        demotion = -np.inf if factor <= 0 else np.log(factor) / self.sigmoid_scale
        trust = X.get_column("author_trust").cast(pl.Float64).to_numpy()
        shift[np.nan_to_num(trust, nan=np.inf) < self.min_trust] = demotion
        if self.flagged != "keep":
            flagged = X.get_column("author_flagged").fill_null(False).to_numpy().astype(bool)
            shift[flagged] = -np.inf if self.flagged == "remove" else demotion
        return shift

    def rank(self, X: pl.DataFrame, *, group: str = "group_id") -> pl.DataFrame:
        """``X`` with ``score`` and 1-based ``rank`` per group, best first, removed rows gone."""
        scored = X.with_columns(score=pl.Series(self.predict(X)))
        return (
            scored.filter(pl.col("score") > -np.inf)
            .sort(group, "score", descending=[False, True], maintain_order=True)
            .with_columns(rank=pl.int_range(1, pl.len() + 1, dtype=pl.UInt32).over(group))
        )

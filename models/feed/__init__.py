"""The feed ranker: LightGBM lambdarank over served feeds, trust-aware, evaluated on a later window.

The data comes from ``features.feed`` in one direction (inputs read once, then features); this
package trains, measures, releases and serves. Modules: ``ranker`` (``FeedRanker`` and its trust
policy), ``ndcg`` (tie-aware NDCG@k), ``evaluate`` (windows, baselines, the simulator's oracle,
the report), ``release`` (train, log, register, gate), ``serve`` (what a feed version publishes).
"""

from models.feed.evaluate import (
    Windows,
    chronological_scores,
    compare,
    evaluate_ranker,
    oracle_scores,
    popularity_scores,
    train_and_evaluate,
    window_groups,
)
from models.feed.ndcg import mean_ndcg, ndcg_per_group
from models.feed.ranker import BASE_FEATURES, DEFAULT_FEATURES, FeedRanker

__all__ = [
    "BASE_FEATURES",
    "DEFAULT_FEATURES",
    "FeedRanker",
    "Windows",
    "chronological_scores",
    "compare",
    "evaluate_ranker",
    "mean_ndcg",
    "ndcg_per_group",
    "oracle_scores",
    "popularity_scores",
    "train_and_evaluate",
    "window_groups",
]

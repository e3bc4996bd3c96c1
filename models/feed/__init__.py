"""The feed ranker: LightGBM lambdarank over served feeds, trust-aware, evaluated on a later window.

Modules: ``ranker`` (``FeedRanker`` and its trust policy), ``history`` (extra point-in-time,
trust-weighted history features), ``ndcg`` (tie-aware NDCG@k), ``evaluate`` (windows, baselines,
the simulator's oracle, the report).
"""

from models.feed.evaluate import (
    Windows,
    chronological_scores,
    compare,
    evaluate_ranker,
    oracle_scores,
    popularity_scores,
    train_and_evaluate,
    trust_snapshots,
    window_groups,
)
from models.feed.history import HISTORY_FEATURES, history_features, read_view_dwell
from models.feed.ndcg import mean_ndcg, ndcg_per_group
from models.feed.ranker import BASE_FEATURES, DEFAULT_FEATURES, FeedRanker, group_sizes

__all__ = [
    "BASE_FEATURES",
    "DEFAULT_FEATURES",
    "HISTORY_FEATURES",
    "FeedRanker",
    "Windows",
    "chronological_scores",
    "compare",
    "evaluate_ranker",
    "group_sizes",
    "history_features",
    "mean_ndcg",
    "ndcg_per_group",
    "oracle_scores",
    "popularity_scores",
    "read_view_dwell",
    "train_and_evaluate",
    "trust_snapshots",
    "window_groups",
]

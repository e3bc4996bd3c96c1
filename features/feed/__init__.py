"""Feed features for (viewer, post) candidates, point-in-time, and the ranker's training groups.

A plain library. Modules: ``inputs`` (what is read from the lake), ``asof`` (point-in-time
running totals), ``features`` (candidate features), ``training`` (impressions -> labelled
groups), ``schema`` (the output contract).
"""

from features.feed.features import CANDIDATE_SCHEMA, FeedConfig, feed_features
from features.feed.inputs import ENGAGEMENT_KINDS, FeedInputs, load_inputs
from features.feed.training import impressions, label_impressions, training_groups

__all__ = [
    "CANDIDATE_SCHEMA",
    "ENGAGEMENT_KINDS",
    "FeedConfig",
    "FeedInputs",
    "feed_features",
    "impressions",
    "label_impressions",
    "load_inputs",
    "training_groups",
]

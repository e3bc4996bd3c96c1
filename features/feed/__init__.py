"""Feed features for (viewer, post) candidates, point-in-time, and the ranker's training groups.

A plain library, read in one direction: ``inputs`` (the one reader of the lake: posts,
engagements, follows, trust links, flags, dwell times, label outcomes, fan-out candidates, trust
snapshots) -> ``features`` (candidate features, with ``asof``'s point-in-time running totals) ->
``training`` (impressions -> labelled groups) -> ``history`` (the trust-weighted history
features the ranker adds). ``schema`` is the output contract.
"""

from features.feed.features import CANDIDATE_SCHEMA, FeedConfig, feed_features
from features.feed.history import HISTORY_FEATURES, history_features
from features.feed.inputs import (
    ENGAGEMENT_KINDS,
    FeedInputs,
    followed_posts,
    load_inputs,
    pushed_posts,
    trust_snapshots,
)
from features.feed.training import (
    LABEL_WINDOW,
    impressions,
    label_impressions,
    labelled_groups,
    training_groups,
)

__all__ = [
    "CANDIDATE_SCHEMA",
    "ENGAGEMENT_KINDS",
    "HISTORY_FEATURES",
    "LABEL_WINDOW",
    "FeedConfig",
    "FeedInputs",
    "feed_features",
    "followed_posts",
    "history_features",
    "impressions",
    "label_impressions",
    "labelled_groups",
    "load_inputs",
    "pushed_posts",
    "training_groups",
    "trust_snapshots",
]

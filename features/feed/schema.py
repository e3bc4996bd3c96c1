"""The feed-feature contract: every output column, its dtype and what it means.

Conventions: a candidate's features use only events with ``occurred_at < request_at`` (strictly
before), and trust snapshots with ``snapshot_at <= request_at`` (a snapshot holds events before its
own time). Post-side columns are null when the post did not exist yet at ``request_at`` (in a
training group, a post created while the viewer scrolled). Other nulls: see ``nullable``.
"""

from __future__ import annotations

import polars as pl

from features.platform_graph.schema import Feature, polars_schema

SCHEMA_VERSION = "feed-features/1"

TS = pl.Datetime("us", "UTC")
S, F64, U32, I64, I8, B = pl.String, pl.Float64, pl.UInt32, pl.Int64, pl.Int8, pl.Boolean

CANDIDATE = (
    Feature("viewer_id", S, "the user the feed is for"),
    Feature("post_id", S, "the candidate post"),
    Feature("request_at", TS, "when the feed is ranked; every feature is as of this instant"),
)

FEATURES = (
    Feature("author_id", S, "the post's author", nullable=True),
    Feature("topic", S, "the post's topic (POST_CREATED.topic)", nullable=True),
    Feature("has_link", B, "the post carries a link", nullable=True),
    Feature("has_media", B, "the post carries media", nullable=True),
    Feature("text_length", I64, "characters of post text", nullable=True),
    Feature("post_age_s", F64, "seconds from the post's creation to request_at", nullable=True),
    Feature("post_views", U32, "views of the post so far"),
    Feature("post_likes", U32, "likes of the post so far"),
    Feature("post_comments", U32, "comments on the post so far"),
    Feature("post_shares", U32, "shares of the post so far"),
    Feature(
        "post_first_hour_views",
        U32,
        "views in the post's first hour (only those before request_at)",
    ),
    Feature(
        "post_first_hour_engagements",
        U32,
        "likes + comments + shares in the post's first hour (before request_at)",
    ),
    Feature("post_engagement_rate", F64, "(likes + comments + shares) / (views + 1) so far"),
    Feature(
        "viewer_author_affinity",
        F64,
        "viewer's past engagements with the author's posts, weighted view 0.2 / like 1 / comment "
        "2 / share 3, halved every 7 days",
    ),
    Feature(
        "viewer_author_engagements",
        U32,
        "count of the viewer's past engagements (any kind) with the author's posts",
    ),
    Feature(
        "viewer_topic_affinity",
        F64,
        "as viewer_author_affinity, over the viewer's engagements with posts of this topic",
    ),
    Feature(
        "viewer_topic_share",
        F64,
        "viewer_topic_affinity over the viewer's affinity to all topics (null: no history yet)",
        nullable=True,
    ),
    Feature(
        "viewer_follows_author",
        B,
        "the viewer followed the author (USER_FOLLOWED) before request_at",
    ),
    Feature("author_followers", U32, "distinct users who followed the author before request_at"),
    Feature(
        "viewer_trusts_author",
        F64,
        "weight of the strongest live trust connection viewer -> author (0 = none)",
    ),
    Feature(
        "author_trusts_viewer",
        F64,
        "weight of the strongest live trust connection author -> viewer (0 = none)",
    ),
    Feature(
        "author_flagged",
        B,
        "the author was flagged (confirmed fraud or banned, not cleared since) before request_at",
    ),
    Feature(
        "author_trust",
        F64,
        "the author's trust in [0, 1] from the latest snapshot at or before request_at",
        nullable=True,
    ),
)

TRAINING = (
    Feature(
        "group_id",
        U32,
        "one served feed: a viewer's impressions until the position restarts or 30 min pass",
    ),
    *CANDIDATE[:2],
    Feature("request_at", TS, "the group's first impression: when the feed was ranked"),
    Feature("shown_at", TS, "this impression's time"),
    Feature("feed_position", I64, "position in the feed (from the impression event)"),
    Feature(
        "label",
        I8,
        "strongest engagement from the impression on, within a day: 0 view, 1 like, 2 comment, 3 "
        "share",
    ),
    *FEATURES,
)

__all__ = [
    "CANDIDATE",
    "FEATURES",
    "SCHEMA_VERSION",
    "TRAINING",
    "Feature",
    "polars_schema",
]

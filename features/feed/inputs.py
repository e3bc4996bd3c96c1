"""What the feed features read from the lake, as of a cut-off: posts, engagements, follows,
trust-link timelines and flag changes.

Everything carries its own event time, so features can be cut again per candidate (strictly
before its request time); the cut-off here only bounds how much is read.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import polars as pl

from features.lake import EventSource, read_events, utc
from features.platform_graph.build import TRUST_TYPES
from features.platform_graph.neighbourhood import flag_history

ENGAGEMENT_KINDS = ("view", "like", "comment", "share")  # also the label grades 0..3


@dataclass(frozen=True)
class FeedInputs:
    posts: pl.DataFrame  # post_id, author_id, created_at, topic, has_link, has_media, text_length
    engagements: pl.DataFrame  # viewer_id, post_id, author_id, engaged_at, engagement, ...
    follows: pl.DataFrame  # viewer_id, author_id, followed_at (first follow of the pair)
    trust_links: pl.DataFrame  # src, dst, changed_at, weight (strongest live trust type after)
    flags: pl.DataFrame  # user_id, changed_at, flagged


def read_posts(source: EventSource, *, before: datetime) -> pl.DataFrame:
    return read_events(
        source,
        {
            "post_id": "subject_id",
            "author_id": "actor_id",
            "created_at": "occurred_at",
            "topic": "payload.topic",
            "has_link": "payload.has_link",
            "has_media": "payload.has_media",
            "text_length": "payload.text_length",
        },
        types=("POST_CREATED",),
        before=before,
    ).unique("post_id", keep="first")


def read_engagements(
    source: EventSource, *, before: datetime, since: datetime | None = None
) -> pl.DataFrame:
    frame = read_events(
        source,
        {
            "viewer_id": "actor_id",
            "post_id": "subject_id",
            "author_id": "payload.author_id",
            "engaged_at": "occurred_at",
            "engagement": "payload.engagement",
            "feed_position": "payload.feed_position",
            "event_id": "event_id",
        },
        types=("POST_ENGAGED",),
        before=before,
        since=since,
    )
    grade = pl.col("engagement").replace_strict(
        {k: i for i, k in enumerate(ENGAGEMENT_KINDS)}, return_dtype=pl.Int8
    )
    return frame.with_columns(grade=grade)


def read_follows(source: EventSource, *, before: datetime) -> pl.DataFrame:
    return read_events(
        source,
        {"viewer_id": "actor_id", "author_id": "subject_id", "followed_at": "min(occurred_at)"},
        types=("USER_FOLLOWED",),
        before=before,
        group_by=("viewer_id", "author_id"),
    )


def read_trust_links(source: EventSource, *, before: datetime) -> pl.DataFrame:
    """Per (src, dst) and change time: the weight of the strongest trust connection still live."""
    events = read_events(
        source,
        {
            "src": "actor_id",
            "dst": "subject_id",
            "changed_at": "occurred_at",
            "edge_type": "payload.edge_type",
            "w": "CASE WHEN event_type = 'TRUST_CONNECTION_ADDED' THEN payload.weight ELSE 0 END",
            "event_id": "event_id",
        },
        types=("TRUST_CONNECTION_ADDED", "TRUST_CONNECTION_REMOVED"),
        before=before,
    ).sort("src", "dst", "changed_at", "event_id")
    live = [
        pl.when(pl.col("edge_type") == t)
        .then(pl.col("w"))
        .otherwise(None)
        .forward_fill()
        .over("src", "dst")
        .fill_null(0.0)
        .alias(t)
        for t in TRUST_TYPES
    ]
    return (
        events.with_columns(live)
        .with_columns(weight=pl.max_horizontal(*TRUST_TYPES))
        .group_by("src", "dst", "changed_at", maintain_order=True)
        .agg(pl.col("weight").last())
    )


def load_inputs(
    source: EventSource, *, before: datetime, flag_statuses: tuple[str, ...] = ("banned",)
) -> FeedInputs:
    before = utc(before)
    return FeedInputs(
        posts=read_posts(source, before=before),
        engagements=read_engagements(source, before=before),
        follows=read_follows(source, before=before),
        trust_links=read_trust_links(source, before=before),
        flags=flag_history(source, before=before, statuses=flag_statuses),
    )

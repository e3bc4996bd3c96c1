"""Candidate groups with graded labels from the lake's impressions: the feed ranker's training set.

An impression is a POST_ENGAGED ``view`` with a ``feed_position``. A viewer's impressions form one
group (one served feed) until the position stops increasing or ``session_gap`` passes without
one; the group's ``request_at`` is its first impression, the moment the feed was ranked. Features
are computed as of ``request_at``: strictly before every impression of the group, and blind to
what the viewer did further down the same feed.

The label is the strongest engagement the viewer gave the post from the impression on, within
``label_window``: 0 view, 1 like, 2 comment, 3 share. Labels need events after ``end``, so they are
read up to ``end + label_window``; features never are.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import polars as pl

from features.feed.features import FeedConfig, feed_features
from features.feed.inputs import FeedInputs, load_inputs, read_engagements
from features.lake import EventSource, utc


def impressions(engagements: pl.DataFrame, *, session_gap: timedelta) -> pl.DataFrame:
    """Impressions grouped into served feeds: viewer_id, post_id, shown_at, feed_position,
    request_at, one row per (group, post)."""
    shown = (
        engagements.filter((pl.col("engagement") == "view") & pl.col("feed_position").is_not_null())
        .select("viewer_id", "post_id", shown_at="engaged_at", feed_position="feed_position")
        .sort("viewer_id", "shown_at", "feed_position", "post_id")
    )
    prev_pos = pl.col("feed_position").shift(1).over("viewer_id")
    prev_at = pl.col("shown_at").shift(1).over("viewer_id")
    starts = (
        prev_pos.is_null()
        | (pl.col("feed_position") <= prev_pos)
        | ((pl.col("shown_at") - prev_at) > session_gap)
    )
    return (
        shown.with_columns(_start=starts)
        .with_columns(_feed=pl.col("_start").cum_sum())
        .with_columns(request_at=pl.col("shown_at").min().over("_feed"))
        .unique(["_feed", "post_id"], keep="first", maintain_order=True)
        .drop("_start", "_feed")
    )


def label_impressions(
    shown: pl.DataFrame, engagements: pl.DataFrame, *, window: timedelta
) -> pl.DataFrame:
    """``shown`` plus ``label``: the best grade among the viewer's engagements with the post in
    [shown_at, shown_at + window)."""
    acts = engagements.filter(pl.col("grade") > 0).select(
        "viewer_id", "post_id", "engaged_at", "grade"
    )
    keyed = shown.with_row_index("_row")
    best = (
        keyed.select("_row", "viewer_id", "post_id", "shown_at")
        .join(acts, on=["viewer_id", "post_id"])
        .filter(
            (pl.col("engaged_at") >= pl.col("shown_at"))
            & (pl.col("engaged_at") < pl.col("shown_at") + window)
        )
        .group_by("_row")
        .agg(label=pl.col("grade").max())
    )
    return (
        keyed.join(best, on="_row", how="left")
        .sort("_row")
        .drop("_row")
        .with_columns(pl.col("label").fill_null(0).cast(pl.Int8))
    )


def training_groups(
    source: EventSource,
    *,
    start: datetime,
    end: datetime,
    trust: pl.DataFrame | None = None,
    config: FeedConfig | None = None,
    label_window: timedelta = timedelta(days=1),
    session_gap: timedelta = timedelta(minutes=30),
    inputs: FeedInputs | None = None,
) -> pl.DataFrame:
    """Labelled candidate groups for feeds served in [start, end), sorted by group and position.

    ``inputs`` (read as of ``end``) can be passed in to share one lake read between calls.
    """
    start, end = utc(start), utc(end)
    inputs = inputs or load_inputs(source, before=end)
    # Labels may look past ``end``; this read feeds labels only. It starts a day early so a feed
    # served across ``start`` keeps its real first impression.
    later = read_engagements(source, before=end + label_window, since=start - timedelta(days=1))
    shown = impressions(later, session_gap=session_gap).filter(
        (pl.col("request_at") >= start) & (pl.col("request_at") < end)
    )
    shown = label_impressions(shown, later, window=label_window)
    groups = (
        shown.select("viewer_id", "request_at")
        .unique()
        .sort("request_at", "viewer_id")
        .with_row_index("group_id")
    )
    shown = shown.join(groups, on=["viewer_id", "request_at"]).sort("group_id", "feed_position")
    return feed_features(shown, inputs, trust=trust, config=config).select(
        "group_id",
        "viewer_id",
        "post_id",
        "request_at",
        "shown_at",
        "feed_position",
        "label",
        pl.exclude(
            "group_id", "viewer_id", "post_id", "request_at", "shown_at", "feed_position", "label"
        ),
    )

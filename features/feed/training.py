"""Candidate groups with graded labels from the lake's impressions: the feed ranker's training set.

An impression is a POST_ENGAGED ``view`` with a ``feed_position``. A viewer's impressions form one
group (one served feed) until the position stops increasing or ``session_gap`` passes without
one; the group's ``request_at`` is its first impression, the moment the feed was ranked. Features
are computed as of ``request_at``: strictly before every impression of the group, and blind to
what the viewer did further down the same feed.

The label is the strongest engagement the viewer gave the post from the impression on, within
``label_window``: 0 view, 1 like, 2 comment, 3 share. Labels need events after ``end``, so the
inputs are read with outcomes up to ``end + label_window``; features never see those.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import polars as pl

from features.feed.features import FeedConfig, feed_features
from features.feed.inputs import FeedInputs, load_inputs
from features.lake import EventSource, utc

LABEL_WINDOW = timedelta(days=1)  # how long after an impression an engagement still labels it


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


def labelled_groups(
    inputs: FeedInputs,
    *,
    start: datetime,
    trust: pl.DataFrame | None = None,
    config: FeedConfig | None = None,
    label_window: timedelta = LABEL_WINDOW,
    session_gap: timedelta = timedelta(minutes=30),
) -> pl.DataFrame:
    """Labelled candidate groups for feeds served from ``start`` to the inputs' cut-off, sorted
    by group and position. ``inputs`` must hold outcomes for ``label_window`` past the cut-off
    (``load_inputs(..., labels_until=end + label_window)``)."""
    if inputs.before is None or inputs.outcomes is None or inputs.labels_until is None:
        raise ValueError("labels need inputs read with labels_until")
    start, end = utc(start), inputs.before
    if inputs.labels_until < end + label_window:
        raise ValueError(f"labels need outcomes until {end + label_window}")
    # Labels look past ``end``, at the outcomes; features never do. They start a day early so a
    # feed served across ``start`` keeps its real first impression.
    # A few days: ids as text again, so groups are numbered in the text's order.
    later = pl.concat(
        [
            inputs.engagements.filter(pl.col("engaged_at") >= start - timedelta(days=1)),
            inputs.outcomes.filter(pl.col("engaged_at") < end + label_window),
        ]
    ).cast({c: pl.String for c in ("viewer_id", "post_id", "author_id")})
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


def training_groups(
    source: EventSource,
    *,
    start: datetime,
    end: datetime,
    trust: pl.DataFrame | None = None,
    config: FeedConfig | None = None,
    label_window: timedelta = LABEL_WINDOW,
    session_gap: timedelta = timedelta(minutes=30),
) -> pl.DataFrame:
    """:func:`labelled_groups` of feeds served in [start, end), from one read of the lake."""
    inputs = load_inputs(source, before=end, labels_until=utc(end) + label_window)
    return labelled_groups(
        inputs,
        start=start,
        trust=trust,
        config=config,
        label_window=label_window,
        session_gap=session_gap,
    )

"""The history features (what the ranker reads beyond feed_features): trust-weighted, and blind
to events at or after the request."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import polars as pl
import pytest

from features.feed.history import AUTHOR_PRIOR, HISTORY_FEATURES, history_features
from features.feed.inputs import FeedInputs

T = datetime(2026, 8, 10, 12, tzinfo=UTC)
H = timedelta(hours=1)
S = timedelta(seconds=1)
TS = pl.Datetime("us", "UTC")


def inputs(*, cut: datetime | None = None) -> FeedInputs:
    posts = pl.DataFrame(
        {
            "post_id": ["p1", "p2", "p3"],
            "author_id": ["amy", "ben", "vic"],
            "created_at": [T - 3 * H, T - 2 * H, T - 5 * H],
            "topic": ["tech", "food", "tech"],
        },
        schema_overrides={"created_at": TS},
    )
    rows = [  # viewer, post, when, grade
        ("ann", "p1", T - 2 * H, 0),
        ("ann", "p1", T - 2 * H + S, 1),  # trusted like
        ("ring", "p1", T - 2 * H, 0),
        ("ring", "p1", T - 2 * H + S, 3),  # a ring's share
        ("vic", "p2", T - H, 0),
        ("vic", "p2", T - H + S, 1),
        ("ann", "p2", T - 90 * S, 0),
        ("ann", "p1", T, 0),
        ("ann", "p1", T + S, 2),  # at and after the request: unseen
    ]
    authors = {"p1": "amy", "p2": "ben", "p3": "vic"}
    engagements = pl.DataFrame(
        {
            "event_id": [f"e{i}" for i in range(len(rows))],
            "viewer_id": [r[0] for r in rows],
            "post_id": [r[1] for r in rows],
            "author_id": [authors[r[1]] for r in rows],
            "engaged_at": [r[2] for r in rows],
            "grade": [r[3] for r in rows],
        },
        schema_overrides={"engaged_at": TS, "grade": pl.Int8},
    )
    if cut is not None:
        engagements = engagements.filter(pl.col("engaged_at") < cut)
        posts = posts.filter(pl.col("created_at") < cut)
    empty = pl.DataFrame()
    return FeedInputs(
        posts=posts, engagements=engagements, follows=empty, trust_links=empty, flags=empty
    )


TRUST = pl.DataFrame(
    {
        "user_id": ["ann", "ring", "vic", "vic"],
        "snapshot_at": [T - 10 * H, T - 10 * H, T - 10 * H, T],
        "trust": [0.9, 0.0, 0.5, 0.7],
    },
    schema_overrides={"snapshot_at": TS},
)
CANDIDATES = pl.DataFrame(
    {
        "viewer_id": ["vic", "vic"],
        "post_id": ["p1", "p2"],
        "author_id": ["amy", "ben"],
        "topic": ["tech", "food"],
        "request_at": [T, T],
    },
    schema_overrides={"request_at": TS},
)


def test_trust_weighted_counts_before_the_request() -> None:
    got = history_features(CANDIDATES, inputs(), trust=TRUST)
    assert got.columns == [*CANDIDATES.columns, *HISTORY_FEATURES]
    amy, ben = got.row(0, named=True), got.row(1, named=True)
    assert amy["viewer_trust"] == pytest.approx(0.7)  # the snapshot at the request counts
    assert amy["author_trusted_views"] == pytest.approx(0.9)  # the ring's view weighs 0
    # Platform: trusted views 0.9 + 0 + 0.5 + 0.9, trusted acts 0.9 + 0 + 0.5.
    platform = 1.4 / 2.3
    expected = (0.9 + AUTHOR_PRIOR * platform) / (0.9 + AUTHOR_PRIOR)
    assert amy["author_trusted_rate"] == pytest.approx(expected)
    assert (amy["viewer_topic_views"], amy["viewer_topic_acts"]) == (0, 0)
    assert (ben["viewer_topic_views"], ben["viewer_topic_acts"]) == (1, 1)
    assert (amy["viewer_topic_posts"], ben["viewer_topic_posts"]) == (1, 0)


def test_without_trust_every_engagement_weighs_the_same() -> None:
    got = history_features(CANDIDATES, inputs(), trust=None).row(0, named=True)
    assert got["viewer_trust"] is None
    assert got["author_trusted_views"] == pytest.approx(2.0)
    assert got["viewer_topic_dwell"] is None  # no dwell given: unknown, not average


def test_dwell_relative_to_the_viewer_and_the_platform() -> None:
    views = inputs().engagements.filter(pl.col("grade") == 0)
    # vic lingers on the food post; everyone else glances.
    dwell = views.select(
        "event_id", dwell_ms=pl.when(pl.col("viewer_id") == "vic").then(9000).otherwise(400)
    )
    got = history_features(CANDIDATES, replace(inputs(), dwell=dwell), trust=TRUST)
    tech, food = got.row(0, named=True), got.row(1, named=True)
    assert tech["viewer_topic_dwell"] == pytest.approx(0.0)  # no tech views: the viewer's mean
    assert food["viewer_topic_dwell"] > 0.0
    assert food["post_dwell"] > tech["post_dwell"]


def test_events_at_or_after_the_request_change_nothing() -> None:
    full = history_features(CANDIDATES, inputs(), trust=TRUST)
    cut = history_features(CANDIDATES, inputs(cut=T), trust=TRUST)
    assert full.equals(cut)

"""What the ranker publishes for serving, on the small simulated lake."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

import polars as pl
import pytest

from features.feed.features import feed_features
from features.feed.history import history_features
from features.feed.inputs import followed_posts, load_inputs, read_follows, trust_snapshots
from features.lake import read_events
from features.platform_graph.neighbourhood import flagged_users
from models.feed import FeedRanker
from models.feed.evaluate import window_groups
from models.feed.serve import author_policy, publication, viewer_priors
from tests.conftest import SmallLake


@pytest.fixture(scope="module")
def served(small_lake: SmallLake) -> tuple[FeedRanker, pl.DataFrame, datetime]:
    begin = datetime.combine(small_lake.start, datetime.min.time(), UTC)
    at = begin + timedelta(days=small_lake.days)
    trust = trust_snapshots(small_lake.events, [begin + timedelta(days=4), at])
    train = window_groups(
        small_lake.events, (at - timedelta(days=5), at - timedelta(days=1)), trust=trust
    )
    ranker = FeedRanker(n_estimators=40).fit(train)
    return ranker, trust, at


def test_followed_posts_are_what_fan_out_would_push(small_lake: SmallLake) -> None:
    at = datetime.combine(small_lake.start, datetime.min.time(), UTC) + timedelta(days=8)
    got = followed_posts(small_lake.events, since=at - timedelta(days=2), before=at)
    assert got.height > 0
    assert got["created_at"].is_between(at - timedelta(days=2), at, closed="left").all()
    follows = read_follows(small_lake.events, before=at)
    joined = got.join(follows, on=["viewer_id", "author_id"], how="left")
    assert (joined["followed_at"] < joined["created_at"]).all()
    private = read_events(
        small_lake.events,
        {"post_id": "subject_id"},
        types=("POST_CREATED",),
        where="payload.visibility = 'private'",
    )
    assert not got["post_id"].is_in(private["post_id"].implode()).any()
    assert got.select("viewer_id", "post_id").is_unique().all()


def test_published_scores_are_the_rankers_raw_scores(
    small_lake: SmallLake, served: tuple[FeedRanker, pl.DataFrame, datetime]
) -> None:
    ranker, trust, at = served
    viewers = (
        followed_posts(small_lake.events, since=at - timedelta(days=2), before=at)["viewer_id"]
        .unique()
        .sort()
        .head(40)
    )
    scores = pl.DataFrame({"user_id": ["nobody"], "trust": [0.0]})
    pub = publication(
        ranker, small_lake.events, at=at, trust=trust, user_scores=scores, days=2, viewers=viewers
    )
    assert pub.scores["viewer_id"].n_unique() == viewers.len() and pub.as_of == at
    # The same candidates scored directly: features as of ``at``, predict_raw.
    sample = pub.scores.head(30)
    inputs = load_inputs(small_lake.events, before=at)
    frame = feed_features(
        sample.select("viewer_id", "post_id", request_at=pl.lit(at)), inputs, trust=trust
    )
    frame = history_features(frame, inputs, trust=trust)
    assert ranker.predict_raw(frame) == pytest.approx(sample["score"].to_numpy())
    assert pub.demotion == pytest.approx(math.log(0.1)) and pub.flagged_policy == "remove"
    assert set(pub.priors["viewer_id"]) == set(viewers)
    flagged = set(pub.authors.filter(pl.col("policy") == "flagged")["author_id"])
    assert flagged == flagged_users(small_lake.events, at)
    assert pub.authors.filter(pl.col("policy") == "low_trust")["author_id"].to_list() == ["nobody"]


def test_priors_are_the_recent_median_and_the_minimum() -> None:
    at = datetime(2026, 8, 10, tzinfo=UTC)
    scored = pl.DataFrame(
        {
            "viewer_id": ["v", "v", "v", "w"],
            "score": [1.0, 3.0, -2.0, 0.5],
            "created_at": [
                at - timedelta(hours=1),
                at - timedelta(hours=2),
                at - timedelta(days=2),
                at - timedelta(days=2),
            ],
        }
    )
    got = viewer_priors(scored, at=at).rows()
    assert got == [("v", 2.0, -2.0), ("w", 0.5, 0.5)]  # w: nothing recent, median of all


def test_author_policy_flagged_wins_over_low_trust() -> None:
    scores = pl.DataFrame({"user_id": ["a", "b", "c"], "trust": [0.01, 0.5, 0.02]})
    got = author_policy(scores, flagged={"a", "z"}, min_trust=0.05)
    assert got.rows() == [("a", "flagged"), ("z", "flagged"), ("c", "low_trust")]
    kept = author_policy(scores, flagged={"a"}, min_trust=0.05, keep_flagged=True)
    assert kept.rows() == [("a", "low_trust"), ("c", "low_trust")]

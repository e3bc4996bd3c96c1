from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import polars as pl
import pytest

from features.feed import feed_features, load_inputs
from features.feed.schema import CANDIDATE, FEATURES, polars_schema
from tests.features.feed.conftest import T1, pid
from tests.features.platform_graph.pgraph_lakes import T0, D, M, uid

CANDIDATES = pl.DataFrame(
    {
        "viewer_id": [uid("vic")] * 4,
        "post_id": [pid("amy2"), pid("ben"), pid("fox"), pid("new")],
        "request_at": [T0] * 4,
    }
)
TRUST = pl.DataFrame(
    {
        "user_id": [uid("amy")] * 3,
        "snapshot_at": [T0 - D, T0, T0 + D],
        "trust": [0.8, 0.7, 0.1],
    }
)


def _decayed(*ages_and_weights: tuple[timedelta, float]) -> float:
    return sum(w * 0.5 ** (age / timedelta(days=7)) for age, w in ages_and_weights)


@pytest.fixture(scope="module")
def rows(feed_lake: Path) -> dict[str, dict]:
    out = feed_features(CANDIDATES, load_inputs(feed_lake, before=T1 + 3 * D), trust=TRUST)
    assert dict(out.schema) == polars_schema(CANDIDATE + FEATURES)
    assert out.select("viewer_id", "post_id", "request_at").equals(CANDIDATES)
    return {name: out.row(i, named=True) for i, name in enumerate(["amy2", "ben", "fox", "new"])}


def test_post_side_features(rows: dict[str, dict]) -> None:
    amy2 = rows["amy2"]
    assert (amy2["author_id"], amy2["topic"], amy2["has_media"], amy2["text_length"]) == (
        uid("amy"),
        "tech",
        False,
        80,
    )
    assert amy2["post_age_s"] == pytest.approx(3600.0)
    # cat's comment at T0 + 2 h is not known yet
    counts = ("post_views", "post_likes", "post_comments", "post_shares")
    assert tuple(amy2[c] for c in counts) == (1, 1, 0, 0)
    assert (amy2["post_first_hour_views"], amy2["post_first_hour_engagements"]) == (1, 1)
    assert amy2["post_engagement_rate"] == pytest.approx(0.5)
    ben = rows["ben"]
    assert (ben["post_views"], ben["post_likes"], ben["post_first_hour_engagements"]) == (0, 1, 1)
    assert ben["post_engagement_rate"] == pytest.approx(1.0)
    new = rows["new"]  # created after the request: unknown
    assert new["author_id"] is None and new["post_age_s"] is None and new["post_views"] == 0


def test_viewer_side_features(rows: dict[str, dict]) -> None:
    amy2 = rows["amy2"]
    expected = _decayed((2 * D - 10 * M, 0.2), (2 * D - 11 * M, 1.0), (D, 3.0))
    assert amy2["viewer_author_affinity"] == pytest.approx(expected, rel=1e-9)
    assert amy2["viewer_author_engagements"] == 3
    assert amy2["viewer_topic_affinity"] == pytest.approx(expected, rel=1e-9)
    assert amy2["viewer_topic_share"] == pytest.approx(1.0)
    assert amy2["viewer_follows_author"] is True
    assert amy2["author_followers"] == 1  # cat follows only after T0
    assert amy2["viewer_trusts_author"] == pytest.approx(0.6)
    assert amy2["author_trusts_viewer"] == 0.0  # removed an hour before
    ben = rows["ben"]
    assert (ben["viewer_author_affinity"], ben["viewer_topic_affinity"]) == (0.0, 0.0)
    assert ben["viewer_topic_share"] == 0.0 and ben["viewer_follows_author"] is False


def test_author_trust_and_flags(rows: dict[str, dict]) -> None:
    assert rows["amy2"]["author_trust"] == pytest.approx(0.7)  # the snapshot taken at T0
    assert rows["ben"]["author_trust"] is None
    assert rows["fox"]["author_flagged"] is True
    assert rows["amy2"]["author_flagged"] is False  # flagged at T0 exactly: not yet known


def test_later_events_never_change_earlier_rows(feed_lake: Path, feed_lake_history: Path) -> None:
    now = feed_features(CANDIDATES, load_inputs(feed_lake_history, before=T0), trust=TRUST)
    later = feed_features(CANDIDATES, load_inputs(feed_lake, before=T1 + 3 * D), trust=TRUST)
    assert now.equals(later)

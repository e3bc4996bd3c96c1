"""Publishing feed versions: whole version, one flip, superseded versions kept for a grace."""

from __future__ import annotations

from datetime import timedelta

import polars as pl
import pytest

from serving.feed import FeedManifest, RedisFeed, SqliteFeed, prune, publish_feed
from tests.serving.feed.conftest import T0

Store = RedisFeed | SqliteFeed


def publish_at(store: Store, minutes: int) -> str:
    return publish_feed(
        store,
        scores=pl.DataFrame({"viewer_id": ["v"], "post_id": ["p"], "score": [1.0]}),
        priors=pl.DataFrame({"viewer_id": ["v"], "fresh": [1.0], "stale": [1.0]}),
        authors=pl.DataFrame({"author_id": ["x"], "policy": ["flagged"]}),
        as_of=T0,
        model_version="m/1",
        demotion=-2.0,
        now=T0 + timedelta(minutes=minutes),
    ).version


def listed(store: Store) -> list[str]:
    return [m.version if isinstance(m, FeedManifest) else m for m in store.versions()[1]]


def test_superseded_versions_live_out_their_grace(feed_store: Store) -> None:
    a = publish_at(feed_store, 0)
    b = publish_at(feed_store, 10)
    assert listed(feed_store) == [a, b]  # a superseded 0 min ago: kept
    c = publish_at(feed_store, 120)
    assert listed(feed_store) == [b, c]  # a superseded at +10 min: gone; b only just
    assert feed_store.versions()[0] == c
    assert feed_store.signals(a, "v", posts=["p"], authors=["x"]) is None
    assert prune(feed_store, now=T0 + timedelta(minutes=181)) == [b]
    assert listed(feed_store) == [c]


def test_an_abandoned_write_is_dropped_after_the_grace(feed_store: Store) -> None:
    keep = publish_at(feed_store, 0)
    broken = "20260810T003000000000Z"
    manifest = FeedManifest(
        version=broken,
        published_at=T0 + timedelta(minutes=30),
        as_of=T0,
        model_version="m/1",
        viewers=0,
        scores=0,
        demotion=-2.0,
        flagged_policy="remove",
    )
    with pytest.raises(pl.exceptions.ColumnNotFoundError):  # dies after listing the version
        feed_store.write(
            broken,
            scores=pl.DataFrame(),
            priors=pl.DataFrame(),
            authors=pl.DataFrame(),
            manifest=manifest,
        )
    assert listed(feed_store) == [keep, broken]  # listed bare: no manifest
    assert feed_store.versions()[0] == keep
    assert prune(feed_store, now=T0 + timedelta(minutes=31)) == []  # might still be writing
    assert prune(feed_store, now=T0 + timedelta(minutes=91)) == [broken]
    assert listed(feed_store) == [keep]


@pytest.mark.parametrize("bad", [{"flagged_policy": "keep"}, {"demotion": 0.5}])
def test_publish_refuses_a_policy_serving_cannot_apply(tmp_path, bad: dict) -> None:
    store = SqliteFeed(tmp_path / "f.sqlite3")
    args = {"flagged_policy": "remove", "demotion": -1.0} | bad
    with pytest.raises(ValueError):
        publish_feed(
            store,
            scores=pl.DataFrame(),
            priors=pl.DataFrame(),
            authors=pl.DataFrame(),
            as_of=T0,
            model_version="m",
            **args,
        )

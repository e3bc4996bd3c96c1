"""The backend contract (``serving.feed.base``), run on SQLite and on the real Redis."""

from __future__ import annotations

from datetime import timedelta

import polars as pl

from serving.feed import FeedManifest, RedisFeed, SqliteFeed
from serving.keys import epoch_us
from tests.serving.feed.conftest import T0, entries

Store = RedisFeed | SqliteFeed


def manifest(version: str, *, minutes: int = 0) -> FeedManifest:
    return FeedManifest(
        version=version,
        published_at=T0 + timedelta(minutes=minutes),
        as_of=T0,
        model_version="vouch-feed-ranker/1",
        viewers=1,
        scores=2,
        demotion=-2.302585092994046,
        flagged_policy="remove",
    )


def write(store: Store, version: str, *, minutes: int = 0) -> None:
    store.write(
        version,
        scores=pl.DataFrame(
            {"viewer_id": ["v", "v"], "post_id": ["p1", "p2"], "score": [0.25, -1.5]}
        ),
        priors=pl.DataFrame({"viewer_id": ["v"], "fresh": [0.1], "stale": [-1.5]}),
        authors=pl.DataFrame({"author_id": ["bad", "meh"], "policy": ["flagged", "low_trust"]}),
        manifest=manifest(version, minutes=minutes),
    )


def test_window_is_newest_first_within_bounds(feed_store: Store) -> None:
    sent = feed_store.push(
        entries([("v", f"p{i}", "a", i) for i in range(6)] + [("w", "q", "a", 3)])
    )
    assert sent == 7
    got = feed_store.window("v", newest=None, oldest=None, limit=4)
    assert got.current is None
    assert got.posts == ["p5", "p4", "p3", "p2"] and got.authors == ["a"] * 4
    assert got.ts == [epoch_us(T0 + timedelta(minutes=m)) for m in (5, 4, 3, 2)]
    bounded = feed_store.window(
        "v",
        newest=epoch_us(T0 + timedelta(minutes=4)),
        oldest=epoch_us(T0 + timedelta(minutes=1)),
        limit=10,
    )
    assert bounded.posts == ["p4", "p3", "p2", "p1"]
    assert feed_store.window("nobody", newest=None, oldest=None, limit=10).posts == []


def test_push_is_idempotent_and_capped(feed_store: Store) -> None:
    rows = [("v", f"p{i}", "a", i) for i in range(8)]
    feed_store.push(entries(rows), cap=5)
    feed_store.push(entries(rows[-3:]), cap=5)
    got = feed_store.window("v", newest=None, oldest=None, limit=100)
    assert got.posts == ["p7", "p6", "p5", "p4", "p3"]
    feed_store.push(entries([("v", "late", "a", -10)]), cap=5)  # older than all: trimmed at once
    assert "late" not in feed_store.window("v", newest=None, oldest=None, limit=100).posts


def test_version_invisible_until_flip_then_signals(feed_store: Store) -> None:
    write(feed_store, "20260810T000000000000Z")
    assert feed_store.window("v", newest=None, oldest=None, limit=1).current is None
    feed_store.flip("20260810T000000000000Z")
    assert feed_store.window("v", newest=None, oldest=None, limit=1).current == (
        "20260810T000000000000Z"
    )
    got = feed_store.signals(
        "20260810T000000000000Z", "v", posts=["p2", "new", "p1"], authors=["bad", "meh", "ok"]
    )
    assert got is not None
    assert got.manifest == manifest("20260810T000000000000Z")
    assert got.scores == [-1.5, None, 0.25]
    assert (got.fresh, got.stale) == (0.1, -1.5)
    assert got.flagged == {"bad"} and got.low_trust == {"meh"}
    other = feed_store.signals("20260810T000000000000Z", "stranger", posts=["p1"], authors=[])
    assert other is not None and other.scores == [None] and other.fresh is None
    assert feed_store.signals("19990101T000000000000Z", "v", posts=["p1"], authors=["a"]) is None


def test_versions_listed_oldest_first_and_dropped_whole(feed_store: Store) -> None:
    write(feed_store, "20260810T000000000000Z")
    write(feed_store, "20260810T010000000000Z", minutes=60)
    feed_store.flip("20260810T010000000000Z")
    current, found = feed_store.versions()
    assert current == "20260810T010000000000Z"
    assert [m.version for m in found if isinstance(m, FeedManifest)] == [
        "20260810T000000000000Z",
        "20260810T010000000000Z",
    ]
    feed_store.drop("20260810T000000000000Z")
    assert feed_store.signals("20260810T000000000000Z", "v", posts=["p1"], authors=[]) is None
    assert feed_store.versions()[1] == [manifest("20260810T010000000000Z", minutes=60)]
    kept = feed_store.signals("20260810T010000000000Z", "v", posts=["p1"], authors=["bad"])
    assert kept is not None and kept.scores == [0.25] and kept.flagged == {"bad"}

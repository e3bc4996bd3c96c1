"""``read_feed`` on both backends: ranking, priors, the trust policy, and a cursor that holds."""

from __future__ import annotations

import math
from datetime import timedelta

import polars as pl
import pytest

from serving.feed import RedisFeed, SqliteFeed, fan_out, publish_feed, read_feed
from tests.serving.feed.conftest import T0, entries

Store = RedisFeed | SqliteFeed
DEMOTION = math.log(0.1)


def publish(store: Store, scores: dict[str, float], *, minutes: int = 0, **kw: object) -> str:
    """Publish scores of viewer ``v`` as of T0 + 1 day; authors ``bad`` flagged, ``low`` low."""
    done = publish_feed(
        store,
        scores=pl.DataFrame(
            {"viewer_id": "v", "post_id": list(scores), "score": list(scores.values())}
        ),
        priors=pl.DataFrame(
            {"viewer_id": ["v"], "fresh": [kw.pop("fresh", 0.5)], "stale": [min(scores.values())]}
        ),
        authors=pl.DataFrame({"author_id": ["bad", "low"], "policy": ["flagged", "low_trust"]}),
        as_of=T0 + timedelta(days=1),
        model_version="m/1",
        demotion=DEMOTION,
        now=T0 + timedelta(days=1, minutes=minutes),
        **kw,  # type: ignore[arg-type]
    )
    return done.version


def test_chronological_when_nothing_is_published(feed_store: Store) -> None:
    feed_store.push(entries([("v", f"p{i}", "a", i) for i in range(5)]))
    page = read_feed(feed_store, "v", page=3)
    assert [i.post_id for i in page.items] == ["p4", "p3", "p2"]
    assert page.version is None and not any(i.scored for i in page.items)
    rest = read_feed(feed_store, "v", cursor=page.cursor, page=3)
    assert [i.post_id for i in rest.items] == ["p1", "p0"] and rest.cursor is None


def test_ranked_by_scores_with_priors_and_policy(feed_store: Store) -> None:
    feed_store.push(
        entries(
            [
                ("v", "good", "a", 10),
                ("v", "best", "b", 5),
                ("v", "spam", "bad", 20),
                ("v", "ringpost", "low", 30),
                ("v", "old", "a", -100),
                ("v", "fresh", "c", 24 * 60 + 5),  # after as_of: the fresh prior
            ]
        )
    )
    publish(feed_store, {"good": 1.0, "best": 2.0, "spam": 9.0, "ringpost": 3.0})
    page = read_feed(feed_store, "v")
    assert [i.post_id for i in page.items] == ["best", "good", "old", "ringpost", "fresh"]
    by_id = {i.post_id: i for i in page.items}
    assert by_id["ringpost"].demoted and by_id["ringpost"].score == pytest.approx(3.0 + DEMOTION)
    assert by_id["fresh"].score == 0.5 and not by_id["fresh"].scored
    assert by_id["old"].score == 1.0 and not by_id["old"].scored  # stale prior = lowest score
    assert by_id["best"].created_at == T0 + timedelta(minutes=5)
    assert page.cursor is None


def test_flagged_demoted_when_the_version_says_so(feed_store: Store) -> None:
    feed_store.push(entries([("v", "spam", "bad", 1), ("v", "ok", "a", 0)]))
    publish(feed_store, {"spam": 1.0, "ok": -0.5}, flagged_policy="demote")
    items = read_feed(feed_store, "v").items
    assert [(i.post_id, i.demoted) for i in items] == [("ok", False), ("spam", True)]


def test_cursor_pages_once_through_despite_new_posts_and_versions(feed_store: Store) -> None:
    feed_store.push(entries([("v", f"p{i:02}", "a", i) for i in range(25)]))
    first = publish(feed_store, {f"p{i:02}": float((i * 7) % 25) for i in range(25)})
    page = read_feed(feed_store, "v", page=10, window=20)
    seen = [i.post_id for i in page.items]
    assert page.version == first
    # Meanwhile: a newer post arrives and a new version with reversed scores flips.
    feed_store.push(entries([("v", "newer", "a", 500)]))
    publish(feed_store, {f"p{i:02}": -float((i * 7) % 25) for i in range(25)}, minutes=5)
    while page.cursor:
        page = read_feed(feed_store, "v", cursor=page.cursor, page=10, window=20)
        assert page.version == first or not page.items
        seen += [i.post_id for i in page.items]
    assert sorted(seen) == [f"p{i:02}" for i in range(25)]  # each once, "newer" waits
    # The first window (newest 20) in the first version's order, then the older 5.
    top = sorted(range(5, 25), key=lambda i: -((i * 7) % 25))
    assert seen[:20] == [f"p{i:02}" for i in top]
    fresh = read_feed(feed_store, "v", page=30)
    assert fresh.version != first and fresh.items[0].post_id == "p00"  # the new order
    assert "newer" in {i.post_id for i in fresh.items}


def test_dropped_version_falls_back_to_current(feed_store: Store) -> None:
    feed_store.push(entries([("v", f"p{i}", "a", i) for i in range(4)]))
    first = publish(feed_store, {"p0": 4.0, "p1": 3.0, "p2": 2.0, "p3": 1.0})
    page = read_feed(feed_store, "v", page=2)
    second = publish(feed_store, {"p0": 4.0, "p1": 3.0, "p2": 2.0, "p3": 1.0}, minutes=5)
    feed_store.drop(first)
    rest = read_feed(feed_store, "v", cursor=page.cursor, page=2)
    assert rest.version == second
    assert [i.post_id for i in page.items + rest.items] == ["p0", "p1", "p2", "p3"]


def test_a_foreign_cursor_is_refused(feed_store: Store) -> None:
    with pytest.raises(ValueError, match="not a feed cursor"):
        read_feed(feed_store, "v", cursor="bm90LWEtY3Vyc29y")


def test_fan_out_reaches_every_follower_once(feed_store: Store) -> None:
    at = T0 + timedelta(days=2)
    sent = fan_out(feed_store, post_id="p", author_id="a", created_at=at, followers=["v", "w"])
    fan_out(feed_store, post_id="p", author_id="a", created_at=at, followers=["v"])
    assert sent == 2
    assert fan_out(feed_store, post_id="q", author_id="a", created_at=at, followers=[]) == 0
    for viewer in ("v", "w"):
        items = read_feed(feed_store, viewer).items
        assert [(i.post_id, i.author_id, i.created_at) for i in items] == [("p", "a", at)]

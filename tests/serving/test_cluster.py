"""A real three-node Redis Cluster: publish, decide and read feeds through it, one node per
decision (the hash tags of ``serving.keys``), and no node left running afterwards."""

from __future__ import annotations

import socket
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl
import pytest
import redis

from serving import keys
from serving.decide import Context, Decider
from serving.feed import RedisFeed, publish_feed, read_feed
from serving.publish import publish
from serving.rules import default_rules
from serving.store import RedisStore
from serving.store.cluster import ClusterWire, slot
from tests.serving.redis_cluster import flush, redis_cluster

pytestmark = pytest.mark.integration
T0 = datetime(2026, 12, 1, 12, tzinfo=UTC)


def _scores(n: int) -> pl.DataFrame:
    rng = np.random.default_rng(3)
    users = [str(uuid.UUID(int=int(x), version=4)) for x in rng.integers(0, 2**62, n)]
    return pl.DataFrame(
        {
            "user_id": users,
            "trust": rng.random(n).round(3),
            "fraud_risk": (rng.random(n) * 0.09).round(4),
            "band": "low",
            "reasons": [["account 2 days old"]] * n,
            "model_version": "m/cluster",
            "scored_at": pl.Series([T0] * n, dtype=pl.Datetime("us", "UTC")),
        }
    )


class _Spy:
    """Records the slots of every round trip the decision path sends."""

    def __init__(self, wire: ClusterWire) -> None:
        self.wire, self.trips = wire, []
        self._send = wire.by_slot

    def __call__(self, batches: list[tuple[int, bytes, int]]) -> list[list[Any]]:
        self.trips.append([s for s, _, _ in batches])
        return self._send(batches)


def test_publish_and_decide_one_node_per_decision(cluster_ports: list[int]) -> None:
    flush(cluster_ports)
    store = RedisStore(f"redis://127.0.0.1:{cluster_ports[0]}", timeout_s=1.0, cluster=True)
    scores = _scores(3000)
    done = publish(store, scores, snapshot="d1", now=T0)
    # the pages spread over every node, and so do the pointers' copies
    for port in cluster_ports:
        with redis.Redis(port=port) as node:
            assert node.dbsize() > 100
    assert isinstance(store.wire, ClusterWire)
    spy = _Spy(store.wire)
    store.wire.by_slot = spy  # type: ignore[method-assign]
    decider = Decider(store, rules=default_rules(), clock=lambda: T0.timestamp() + 60)
    for row in scores.gather_every(97).iter_rows(named=True):
        user = row["user_id"]
        spy.trips.clear()
        context = Context(device="dev-1", country="FR", mfa_age_s=10.0)
        decision = decider.decide(user, "message", context=context)
        assert decision.score_version == done.version
        assert decision.trust == pytest.approx(row["trust"])
        # one round trip, one slot, the user's own
        assert spy.trips == [[slot(keys.user_tag(user))]]
        decider.remember(user, context)
        assert decider.decide(user, "message", context=context).outcome == "allow"
        every_key = [
            keys.current_key(keys.user_hash(user) % keys.SLOT_GROUPS),
            keys.page_key(done.version, keys.page(user, keys.pages_for(scores.height))),
            keys.override_key(user),
            keys.seen_key(user, "device"),
            keys.seen_key(user, "country"),
            keys.rate_key("user", user, action="message", window_s=3600, now_s=0, user_id=user),
        ]
        assert len({slot(k) for k in every_key}) == 1
    # A per-IP limit counts one IP across every account behind it: its counter lives under the
    # IP's own key, sent in the same trip (a second batch only when it hashes elsewhere).
    two = scores["user_id"].head(2).to_list()
    for i in range(3):
        spy.trips.clear()
        decision = decider.decide(two[i % 2], "payout", context=Context(ip="10.9.8.7"))
        assert len(spy.trips) == 1 and slot(keys.user_tag(two[i % 2])) in spy.trips[0]
    ip_key = keys.rate_key("ip", "10.9.8.7", action="payout", window_s=3600, now_s=T0.timestamp())
    assert int(store.client.get(ip_key)) == 3
    store.close()


def test_feed_through_the_cluster(cluster_ports: list[int]) -> None:
    flush(cluster_ports)
    feed = RedisFeed.from_url(f"redis://127.0.0.1:{cluster_ports[1]}", timeout_s=1.0, cluster=True)
    viewers = [str(uuid.UUID(int=i + 1000, version=4)) for i in range(40)]
    posts = [
        (v, f"p{v[-4:]}-{k}", "author-1", T0 + timedelta(minutes=k))
        for v in viewers
        for k in range(5)
    ]
    entries = pl.DataFrame(
        posts,
        schema={
            "viewer_id": pl.String,
            "post_id": pl.String,
            "author_id": pl.String,
            "created_at": pl.Datetime("us", "UTC"),
        },
        orient="row",
    )
    assert feed.push(entries) == len(posts)
    best = {v: f"p{v[-4:]}-1" for v in viewers}  # the ranker prefers an older post
    manifest = publish_feed(
        feed,
        scores=pl.DataFrame(
            {"viewer_id": viewers, "post_id": list(best.values()), "score": [5.0] * len(viewers)}
        ),
        priors=pl.DataFrame({"viewer_id": viewers, "fresh": 0.0, "stale": -1.0}),
        authors=pl.DataFrame({"author_id": ["nobody"], "policy": ["flagged"]}),
        as_of=T0 + timedelta(hours=1),
        model_version="m/feed",
        demotion=-2.0,
        now=T0 + timedelta(hours=1),
    )
    for viewer in viewers:
        page = read_feed(feed, viewer, page=3)
        assert page.version == manifest.version
        assert page.items[0].post_id == best[viewer]
        read_keys = [
            feed.keys.viewer_current(viewer),
            feed.keys.timeline(viewer),
            feed.keys.scores(manifest.version, viewer),
        ]
        assert len({slot(k) for k in read_keys}) == 1
    feed.close()
    flush(cluster_ports)


def _answers(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
        return True
    except OSError:
        return False


def test_a_cluster_is_torn_down_whole(tmp_path: Path) -> None:
    with redis_cluster(tmp_path) as ports:
        assert all(_answers(p) for p in ports)
    assert not any(_answers(p) for p in ports)

"""Both feed backends behind one fixture: every contract test runs on SQLite and on the real
Redis (own random key prefix, removed afterwards; skipped when Redis is absent, except in CI)."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import polars as pl
import pytest
import redis

from serving.feed import RedisFeed, SqliteFeed
from serving.keys import FeedKeys
from tests.conftest import require_server
from tests.serving.redis_cluster import flush

REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
T0 = datetime(2026, 8, 10, tzinfo=UTC)


def redis_client() -> redis.Redis:
    client = redis.Redis.from_url(REDIS_URL, decode_responses=True, socket_connect_timeout=1)
    try:
        client.ping()
    except redis.RedisError as exc:
        require_server("Redis", False, f"{REDIS_URL}: {exc}")
    return client


@pytest.fixture(
    params=[
        "sqlite",
        pytest.param("redis", marks=pytest.mark.integration),
        pytest.param("cluster", marks=pytest.mark.integration),
    ]
)
def feed_store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[RedisFeed | SqliteFeed]:
    if request.param == "sqlite":
        store = SqliteFeed(tmp_path / "feed.sqlite3")
        yield store
        store.close()
        return
    if request.param == "cluster":
        ports = request.getfixturevalue("cluster_ports")
        url = f"redis://127.0.0.1:{ports[0]}"
        feed = RedisFeed.from_url(url, keys=FeedKeys("test-feed"), timeout_s=1.0, cluster=True)
        feed.batch = 7
        yield feed
        feed.close()
        flush(ports)
        return
    client = redis_client()
    prefix = f"test-feed-{uuid.uuid4().hex[:12]}"
    yield RedisFeed(client, keys=FeedKeys(prefix), batch=7)  # tiny batches: many round trips
    doomed = list(client.scan_iter(f"{prefix}:*", count=1000))
    if doomed:
        client.unlink(*doomed)
    client.close()


def entries(rows: list[tuple[str, str, str, int]]) -> pl.DataFrame:
    """(viewer, post, author, minutes after T0) -> a push frame."""
    return pl.DataFrame(
        [(v, p, a, T0 + timedelta(minutes=m)) for v, p, a, m in rows],
        schema={
            "viewer_id": pl.String,
            "post_id": pl.String,
            "author_id": pl.String,
            "created_at": pl.Datetime("us", "UTC"),
        },
        orient="row",
    )

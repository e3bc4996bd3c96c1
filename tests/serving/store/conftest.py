from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import redis

from serving.store import RedisStore, SQLiteStore
from tests.conftest import require_server
from tests.serving.redis_cluster import flush

REDIS_TEST_URL = "redis://127.0.0.1:6379/13"  # a database of its own: tests flush it


def _redis_up() -> tuple[bool, str]:
    try:
        redis.Redis.from_url(REDIS_TEST_URL, socket_connect_timeout=0.5).ping()
        return True, ""
    except redis.RedisError as exc:
        return False, str(exc)


@pytest.fixture
def redis_store() -> Iterator[RedisStore]:
    up, why = _redis_up()
    require_server("Redis", up, why)
    store = RedisStore(REDIS_TEST_URL, timeout_s=1.0)
    store.client.flushdb()
    yield store
    store.client.flushdb()
    store.close()


@pytest.fixture
def cluster_store(cluster_ports: list[int]) -> Iterator[RedisStore]:
    flush(cluster_ports)
    store = RedisStore(f"redis://127.0.0.1:{cluster_ports[0]}", timeout_s=1.0, cluster=True)
    yield store
    store.close()
    flush(cluster_ports)


@pytest.fixture
def sqlite_store(tmp_path: Path) -> Iterator[SQLiteStore]:
    store = SQLiteStore(tmp_path / "online.sqlite", timeout_s=1.0)
    yield store
    store.close()


@pytest.fixture(
    params=[
        pytest.param("sqlite"),
        pytest.param("redis", marks=pytest.mark.integration),
        pytest.param("cluster", marks=pytest.mark.integration),
    ]
)
def store(request: pytest.FixtureRequest) -> RedisStore | SQLiteStore:
    """Every contract test runs against every backend: SQLite, Redis, a Redis Cluster."""
    return request.getfixturevalue(f"{request.param}_store")

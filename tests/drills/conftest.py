"""Fixtures of the fault drills: servers of their own, started and cleaned up per test."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.core_api.conftest import (  # noqa: F401  (fixtures: a database of its own)
    pg_settings,
    sqlite_settings,
)
from tests.drills.servers import NatsServer, RedisServer


@pytest.fixture
def redis_server(tmp_path: Path) -> Iterator[RedisServer]:
    server = RedisServer(tmp_path / "redis")
    try:
        server.start()
        yield server
    finally:
        server.close()


@pytest.fixture
def nats_server(tmp_path: Path) -> Iterator[NatsServer]:
    server = NatsServer(tmp_path / "nats")
    try:
        server.start()
        yield server
    finally:
        server.close()

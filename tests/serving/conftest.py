"""The Redis Cluster the serving tests share: started once per session, on spare ports."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.serving.redis_cluster import redis_cluster


@pytest.fixture(scope="session")
def cluster_ports(tmp_path_factory: pytest.TempPathFactory) -> Iterator[list[int]]:
    with redis_cluster(tmp_path_factory.mktemp("redis-cluster")) as ports:
        yield ports

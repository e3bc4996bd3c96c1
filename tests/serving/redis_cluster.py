"""A real three-node Redis Cluster on spare ports, for the tests that need one.

Each node is ``redis-server --cluster-enabled yes`` in a temporary directory of its own; ``redis-cli
--cluster create`` assigns the 16,384 slots (no replicas). Stopping kills every node this
started, whatever the test did, and checks none is left.
"""

from __future__ import annotations

import contextlib
import random
import shutil
import socket
import subprocess
from collections.abc import Iterator
from pathlib import Path

import redis

from tests.conftest import require_server
from tests.drills.servers import free_port, wait_until

NODES = 3


def _cluster_port() -> int:
    """A free port whose cluster bus port (10,000 higher, at most 65,535) is free too."""
    while True:
        port = free_port()
        if port > 55_535:
            port = random.randint(20_000, 55_535)
        try:
            for p in (port, port + 10_000):
                with socket.socket() as s:
                    s.bind(("127.0.0.1", p))
            return port
        except OSError:
            continue


def _answers(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.2) as s:
            s.sendall(b"PING\r\n")
            return s.recv(16).startswith(b"+PONG")
    except OSError:
        return False


def _cluster_ok(ports: list[int]) -> bool:
    for port in ports:
        with redis.Redis(port=port, socket_timeout=1) as node:
            info = node.cluster("info")  # redis-py parses it into a dict of strings
            if info.get("cluster_state") != "ok" or str(info.get("cluster_slots_ok")) != "16384":
                return False
    return True


@contextlib.contextmanager
def redis_cluster(workdir: Path) -> Iterator[list[int]]:
    """Start the cluster, yield its nodes' ports, then stop every node."""
    server, cli = shutil.which("redis-server"), shutil.which("redis-cli")
    require_server("redis-server", server is not None, "no redis-server on PATH")
    require_server("redis-cli", cli is not None, "no redis-cli on PATH")
    assert server is not None and cli is not None
    procs: list[subprocess.Popen[bytes]] = []
    ports: list[int] = []
    while len(ports) < NODES:
        if (port := _cluster_port()) not in ports:
            ports.append(port)
    try:
        for port in ports:
            home = workdir / f"node-{port}"
            home.mkdir(parents=True)
            argv = [server, "--port", str(port), "--bind", "127.0.0.1", "--dir", str(home)]
            argv += ["--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf"]
            argv += ["--save", "", "--appendonly", "no"]
            with (home / "server.log").open("wb") as log:
                procs.append(subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT))
        for port in ports:
            wait_until(lambda p=port: _answers(p), timeout_s=10, what=f"redis node {port}")
        subprocess.run(
            [
                *(cli, "--cluster", "create", *(f"127.0.0.1:{p}" for p in ports)),
                *("--cluster-replicas", "0", "--cluster-yes"),
            ],
            check=True,
            capture_output=True,
            timeout=60,
        )
        wait_until(lambda: _cluster_ok(ports), timeout_s=30, what="cluster_state:ok")
        yield ports
    finally:
        for proc in procs:
            proc.kill()
        for proc in procs:
            proc.wait(timeout=10)
        assert all(p.poll() is not None for p in procs), "a cluster node outlived its test"


def flush(ports: list[int]) -> None:
    """Empty every node (each primary holds its own slots' keys)."""
    for port in ports:
        with redis.Redis(port=port) as node:
            node.flushall()

"""Many requests at once never exhaust the connection pool (no deadlock, no 500).

Sync handlers run in a thread pool (40 threads) and a request keeps its database connection
across several thread hops. Without admission control, a burst fills every thread with requests
blocked on an empty connection pool while the requests holding the connections wait for a thread:
nothing moves until the pool's 30 s timeout answers 500. ``core_api.deps`` admits at most
``REQUEST_SLOTS`` requests to the database at once, fewer than the pool holds.
"""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from collections.abc import Iterator

import httpx2 as httpx
import pytest
import uvicorn

from core_api.app import create_app
from core_api.db.engine import MAX_OVERFLOW, POOL_SIZE, REQUEST_SLOTS
from settings import Settings

BURST = 150  # requests in flight at once: well past the 40 threads and the pool


@pytest.fixture
def served(any_settings: Settings) -> Iterator[str]:
    app = create_app(any_settings, relay_every_s=None)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_config=None))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    assert server.started, "uvicorn did not start"
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=15)


def test_request_slots_fit_in_the_pool() -> None:
    assert REQUEST_SLOTS < POOL_SIZE + MAX_OVERFLOW  # the outbox relay needs one too


@pytest.mark.timeout(120)
def test_a_burst_of_requests_is_served_without_pool_timeouts(served: str) -> None:
    with httpx.Client(base_url=served) as client:
        body = {"email": "burst@example.com", "password": "x" * 12, "display_name": "b"}
        assert client.post("/identity/register", json=body).status_code == 201
        login = client.post("/identity/login", json={k: body[k] for k in ("email", "password")})
        headers = {"Authorization": f"Bearer {login.json()['access_token']}"}

    async def burst() -> list[int]:
        limits = httpx.Limits(max_connections=BURST)
        async with httpx.AsyncClient(base_url=served, limits=limits, timeout=60) as client:
            # A plain ``def`` handler: the thread hops after the connection is taken.
            calls = [client.get("/payments/wallets", headers=headers) for _ in range(BURST)]
            return [r.status_code for r in await asyncio.gather(*calls)]

    started = time.monotonic()
    statuses = asyncio.run(burst())
    assert statuses == [200] * BURST
    assert time.monotonic() - started < 25  # a deadlock only ends at the pool's 30 s timeout

"""Drill: NATS (JetStream, a server of its own) restarts while the outbox relay runs.

Promises held: events keep being accepted by the API while the stream is away (they wait in the
outbox); the relay resumes by itself once the server is back; after draining the stream to the
landing (``vouch drain-nats``) and ingesting it, every event the outbox holds is in the lake,
and none twice.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from cli import main as vouch
from core_api.app import create_app
from core_api.db.outbox import OutboxRow
from core_api.events.nats_sink import JetStreamSink
from pipelines.ingest import Lake, ingest_days, landing_partitions
from settings import Settings
from tests.conftest import wire
from tests.core_api.routers.helpers import signed_in
from tests.drills.servers import NatsServer, wait_until

pytestmark = [pytest.mark.integration, pytest.mark.drill, pytest.mark.timeout(120)]
RELAY_EVERY_S = 0.2


@pytest.fixture
def api(pg_settings: Settings, nats_server: NatsServer) -> Iterator[TestClient]:
    settings = pg_settings.model_copy(update={"nats_url": nats_server.url()})
    with TestClient(create_app(settings, relay_every_s=RELAY_EVERY_S)) as client:
        yield client


def _count(api: TestClient, *, delivered: bool) -> int:
    done = OutboxRow.delivered_at.is_not(None) if delivered else OutboxRow.delivered_at.is_(None)
    with api.app.state.services.sessions() as s:
        return s.scalar(select(func.count()).select_from(OutboxRow).where(done))


def _pending(api: TestClient) -> int:
    return _count(api, delivered=False)


def _outbox_ids(api: TestClient) -> list[str]:
    with api.app.state.services.sessions() as s:
        return list(s.scalars(select(OutboxRow.event_id)))


@pytest.mark.parametrize("how", ["stop", "kill"])
def test_nats_restart_while_relaying_loses_and_duplicates_nothing(
    how: str,
    api: TestClient,
    nats_server: NatsServer,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """``stop``: SIGTERM, the server's orderly shutdown; ``kill``: SIGKILL."""
    people = [signed_in(api)[1] for _ in range(4)]
    post = api.post("/social/posts", json={"body": "talk here", "topic": "tech"}, headers=people[0])
    comments = f"/social/posts/{post.json()['id']}/comments"
    stop, posted, failed = threading.Event(), [], []

    def produce() -> None:  # comments: the rules allow 240 an hour per user
        i = 0
        while not stop.is_set():
            made = api.post(comments, json={"body": f"event {i}"}, headers=people[i % len(people)])
            (posted if made.status_code == 201 else failed).append(made.status_code)
            i += 1

    producer = threading.Thread(target=produce)
    producer.start()
    try:
        wait_until(
            lambda: len(posted) >= 30 and _pending(api) < len(posted),
            timeout_s=30,
            what="the relay delivering",
        )
        getattr(nats_server, how)()
        down = len(posted)
        time.sleep(1.0)  # the relay fails a few rounds; the API goes on
        assert len(posted) > down and _pending(api) > 0
        nats_server.start()
        before = _count(api, delivered=True)
        resumed_s = wait_until(
            lambda: _count(api, delivered=True) > before, timeout_s=30, what="a delivery"
        )
        wait_until(lambda: len(posted) >= down + 60, timeout_s=30, what="more traffic")
    finally:
        stop.set()
        producer.join(timeout=30)
    emptied_s = wait_until(lambda: _pending(api) == 0, timeout_s=30, what="an empty outbox")
    assert failed == []
    assert resumed_s < 3 * RELAY_EVERY_S + 1.0, resumed_s  # a round or two, not a long stall

    landing = tmp_path / "landing"
    capsys.readouterr()
    assert (
        vouch(
            ["drain-nats", "--url", nats_server.url(), "--landing", str(landing), "--wait-s", "0.5"]
        )
        == 0
    )
    drained = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    lake = Lake(tmp_path / "lake")
    ingest_days(landing, sorted(landing_partitions(landing)), lake=lake)
    in_lake = pl.read_parquet(lake.events_dir / "**" / "*.parquet")["event_id"].cast(pl.String)
    outbox = _outbox_ids(api)
    print(
        f"\nNATS {how}: relay delivering again {resumed_s:.2f}s after the restart, outbox empty"
        f" {emptied_s:.2f}s after traffic stopped; outbox {len(outbox)} events, stream drained"
        f" {drained['drained']}, lake {in_lake.len()}"
    )
    assert in_lake.n_unique() == in_lake.len()  # none twice
    assert set(in_lake.to_list()) == set(outbox)  # none lost (and nothing made up)


@pytest.mark.parametrize("how", ["stop", "kill"])
def test_a_batch_in_flight_fails_fast_when_nats_goes_away(
    how: str, nats_server: NatsServer
) -> None:
    """The relay thread must not wait out its whole ack timeout (15 s) for a server that went
    away mid-batch: the batch fails as soon as the connection drops, the next one goes out as
    soon as the server is back."""
    sink = JetStreamSink(nats_server.url())
    try:
        sink.deliver([wire()])  # connected, stream created
        lines = [wire() for _ in range(20_000)]
        outcome: dict[str, Any] = {}

        def deliver() -> None:
            try:
                sink.deliver(lines)
                outcome["delivered"] = time.monotonic()
            except Exception as exc:
                outcome["failed"], outcome["error"] = time.monotonic(), exc

        relay = threading.Thread(target=deliver)
        relay.start()
        time.sleep(0.2)  # mid-batch: 20,000 publishes take longer than this
        stopping = time.monotonic()
        getattr(nats_server, how)()
        stopped_s = time.monotonic() - stopping  # a slow orderly shutdown keeps the socket open
        relay.join(timeout=20)
        assert "failed" in outcome, outcome
        nats_server.start()
        started = time.monotonic()
        sink.deliver([wire()])
        again = time.monotonic() - started
    finally:
        sink.close()
    failed_s = outcome["failed"] - stopping
    print(
        f"\nNATS {how} mid-batch: the server took {stopped_s:.2f}s to stop, the batch failed"
        f" {failed_s:.2f}s after the signal ({outcome['error']!r}); the next one went out"
        f" {again:.3f}s after the restart"
    )
    assert failed_s < stopped_s + 2.0 and again < 1.0

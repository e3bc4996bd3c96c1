"""The outbox through NATS JetStream (real server), down to the lake, each event exactly once."""

from __future__ import annotations

import uuid
from collections.abc import Iterator, Sequence
from pathlib import Path

import polars as pl
import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from core_api.db.identity import User
from core_api.db.outbox import OutboxRow
from core_api.events import EventType
from core_api.events.nats_sink import JetStreamSink, address
from core_api.services.outbox import emit, relay_pending, sink_for
from pipelines.ingest import Lake, ingest_days, landing_partitions
from pipelines.ingest.jetstream import drain_to_landing
from settings import Settings
from tests.conftest import wire
from tests.core_api.events.jetstream_support import Stream, stored, throwaway_stream


@pytest.fixture
def stream() -> Iterator[Stream]:
    yield from throwaway_stream()


@pytest.fixture
def sink(stream: Stream) -> Iterator[JetStreamSink]:
    s = JetStreamSink(stream.url, stream=stream.name, subject_prefix=stream.prefix)
    yield s
    s.close()


class LostAckSink:
    """Publishes, then reports a failure ``lose`` times: the relay sends those rows again."""

    def __init__(self, inner: JetStreamSink, *, lose: int) -> None:
        self.inner, self.lose = inner, lose

    def deliver(self, lines: Sequence[bytes]) -> None:
        self.inner.deliver(lines)
        if self.lose > 0:
            self.lose -= 1
            raise TimeoutError("publish ack lost")


def _emit_users(sessions: sessionmaker[Session], n: int) -> set[str]:
    with sessions() as s:
        ids = []
        for _ in range(n):
            user = User(
                email=f"{uuid.uuid4().hex[:8]}@example.com", password_hash="x", display_name="a"
            )
            s.add(user)
            s.flush()
            payload = {"email_domain": "example.com", "signup_channel": "web"}
            event = emit(
                s, EventType.USER_REGISTERED, actor_id=user.id, subject_id=user.id, payload=payload
            )
            ids.append(str(event.event_id))
        s.commit()
    return set(ids)


def test_address_names_subject_and_msg_id_and_survives_a_bad_line() -> None:
    line = wire("TRUST_CONNECTION_ADDED")
    token, msg_id = address(line)
    assert token == "trust_connection_added"
    assert uuid.UUID(msg_id)
    assert address(b"{oops")[0] == "unknown"
    assert address(b"{oops") == address(b"{oops")  # a resent bad line still dedupes


def test_sink_for_picks_jetstream_when_nats_url_is_set(tmp_path: Path) -> None:
    sink = sink_for(Settings(data_dir=tmp_path, nats_url="nats://127.0.0.1:4222"))
    try:
        assert isinstance(sink, JetStreamSink)
    finally:
        sink.close()


def test_unreachable_jetstream_leaves_rows_pending(sessions: sessionmaker[Session]) -> None:
    _emit_users(sessions, 2)
    sink = JetStreamSink("nats://127.0.0.1:1", timeout_s=2)
    try:
        assert relay_pending(sessions, sink) == 0
    finally:
        sink.close()
    with sessions() as s:
        rows = s.scalars(select(OutboxRow)).all()
    assert [(r.delivered_at, r.attempts) for r in rows] == [(None, 1), (None, 1)]
    assert all("NoServersError" in (r.last_error or "") for r in rows)


@pytest.mark.integration
def test_jetstream_sink_stores_each_event_once_when_a_batch_is_resent(
    stream: Stream, sink: JetStreamSink
) -> None:
    lines = [wire("ORDER_PLACED"), wire("TRUST_CONNECTION_ADDED"), wire("ORDER_PLACED")]
    sink.deliver(lines)
    sink.deliver(lines)  # a relay retry: the duplicate window drops every copy
    sink.deliver([*lines[:1], wire("USER_BLOCKED")])
    held = stored(stream)
    assert [m.data for m in held] == [*lines, held[-1].data]
    assert [m.subject for m in held] == [
        f"{stream.prefix}.order_placed",
        f"{stream.prefix}.trust_connection_added",
        f"{stream.prefix}.order_placed",
        f"{stream.prefix}.user_blocked",
    ]
    assert [m.msg_id for m in held] == [address(m.data)[1] for m in held]


@pytest.mark.integration
def test_outbox_through_jetstream_lands_each_event_once_in_the_lake(
    sessions: sessionmaker[Session], stream: Stream, sink: JetStreamSink, tmp_path: Path
) -> None:
    emitted = _emit_users(sessions, 7)
    # Two rounds publish and then lose the ack: the relay sends the same rows three times.
    flaky = LostAckSink(sink, lose=2)
    for _ in range(3):
        relay_pending(sessions, flaky, batch=3)
    with sessions() as s:
        assert s.scalars(select(OutboxRow).where(OutboxRow.delivered_at.is_(None))).all() == []
    assert len(stored(stream)) == 7  # Nats-Msg-Id: each event stored once

    landing = tmp_path / "landing"
    report = drain_to_landing(
        stream.url, landing, stream=stream.name, subject_prefix=stream.prefix, batch=4, wait_s=0.5
    )
    assert (report.drained, len(report.files)) == (7, 2)
    assert (
        drain_to_landing(
            stream.url, landing, stream=stream.name, subject_prefix=stream.prefix, wait_s=0.5
        ).drained
        == 0
    )

    lake = Lake(tmp_path / "lake")
    reports = ingest_days(landing, sorted(landing_partitions(landing)), lake=lake)
    assert sum(r.ingested for r in reports) == 7
    assert sum(r.duplicates + r.quarantined for r in reports) == 0
    ids = pl.read_parquet(lake.events_dir / "**" / "*.parquet")["event_id"].cast(pl.String)
    assert sorted(ids.to_list()) == sorted(emitted)

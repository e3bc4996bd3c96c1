from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from pydantic import ValidationError
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from core_api.db.identity import User
from core_api.db.outbox import OutboxRow
from core_api.events import Envelope, EventType, parse_event
from core_api.services.outbox import LandingSink, emit, relay_pending
from pipelines.ingest import Lake, ingest_days

DAY = datetime(2026, 11, 26, 9, 30, tzinfo=UTC)


def _register(session: Session) -> User:
    user = User(email=f"{uuid.uuid4().hex[:8]}@example.com", password_hash="x", display_name="a")
    session.add(user)
    session.flush()
    emit(
        session,
        EventType.USER_REGISTERED,
        actor_id=user.id,
        subject_id=user.id,
        payload={"email_domain": "example.com", "signup_channel": "web"},
    )
    return user


def _pending(sessions: sessionmaker[Session]) -> int:
    with sessions() as s:
        return s.scalar(select(func.count()).where(OutboxRow.delivered_at.is_(None))) or 0


def _landed(landing: Path) -> list[bytes]:
    return [line for f in sorted(landing.rglob("*.ndjson")) for line in f.read_bytes().splitlines()]


class FlakySink:
    """Refuses the first ``fail`` deliveries; or lands the lines and then fails (lost ack)."""

    def __init__(self, inner: LandingSink, *, fail: int, lose_ack: bool = False) -> None:
        self.inner, self.fail, self.lose_ack = inner, fail, lose_ack

    def deliver(self, lines: Sequence[bytes]) -> None:
        if self.fail > 0:
            self.fail -= 1
            if self.lose_ack:
                self.inner.deliver(lines)
            raise OSError("sink unavailable")
        self.inner.deliver(lines)


def test_event_commits_and_rolls_back_with_its_write(sessions: sessionmaker[Session]) -> None:
    with sessions() as s:
        _register(s)
        s.rollback()
    assert _pending(sessions) == 0
    with sessions() as s:
        _register(s)
        s.commit()
    assert _pending(sessions) == 1


def test_emit_refuses_an_event_the_contract_refuses(sessions: sessionmaker[Session]) -> None:
    with sessions() as s, pytest.raises(ValidationError, match="signup_channel"):
        emit(
            s,
            EventType.USER_REGISTERED,
            actor_id=str(uuid.uuid4()),
            subject_id=str(uuid.uuid4()),
            payload={"email_domain": "example.com", "signup_channel": "fax"},
        )


def test_relay_lands_valid_lines_in_the_arrival_day_folder(
    sessions: sessionmaker[Session], tmp_path: Path
) -> None:
    with sessions() as s:
        ids = {_register(s).id for _ in range(3)}
        s.commit()
    sink = LandingSink(tmp_path / "landing", clock=lambda: DAY)
    assert relay_pending(sessions, sink, batch=2) == 3
    assert relay_pending(sessions, sink) == 0
    files = list((tmp_path / "landing").rglob("*"))
    assert {f.parent.name for f in files if f.is_file()} == {"2026-11-26"}
    assert not [f for f in files if f.name.endswith(".tmp")]
    events = [parse_event(line) for line in _landed(tmp_path / "landing")]
    assert all(isinstance(e, Envelope) for e in events)
    assert {e.subject_id for e in events if isinstance(e, Envelope)} == ids
    assert _pending(sessions) == 0


def test_refused_delivery_is_retried_and_recorded(
    sessions: sessionmaker[Session], tmp_path: Path
) -> None:
    with sessions() as s:
        _register(s)
        s.commit()
    sink = FlakySink(LandingSink(tmp_path / "landing"), fail=1)
    assert relay_pending(sessions, sink) == 0
    with sessions() as s:
        row = s.scalars(select(OutboxRow)).one()
        assert (row.attempts, row.delivered_at) == (1, None)
        assert "sink unavailable" in (row.last_error or "")
    assert relay_pending(sessions, sink) == 1
    assert len(_landed(tmp_path / "landing")) == 1


def test_outbox_lands_each_event_once_in_the_lake_after_retries(
    sessions: sessionmaker[Session], tmp_path: Path
) -> None:
    landing = tmp_path / "landing"
    with sessions() as s:
        for _ in range(5):
            _register(s)
        s.commit()
    # The first two deliveries land but their acknowledgement is lost: the rows go out again.
    sink = FlakySink(LandingSink(landing, clock=lambda: DAY), fail=2, lose_ack=True)
    for _ in range(3):
        relay_pending(sessions, sink)
    assert len(_landed(landing)) == 15  # at least once: three copies of each line
    lake = Lake(tmp_path / "lake")
    [report] = ingest_days(landing, [date(2026, 11, 26)], lake=lake)
    assert (report.ingested, report.duplicates, report.quarantined) == (5, 10, 0)

"""Emit domain events inside the write's transaction; relay them at least once to a sink.

``emit`` validates the event against the contract and adds it to the caller's session, so the
event commits (or rolls back) with the domain rows. ``relay_pending`` moves undelivered rows to an
``EventSink`` and marks them delivered only after the sink accepted them: a crash in between
delivers them again, and the lake dedupes on ``event_id``. The NDJSON landing is the embedded
sink; ``core_api.events.nats_sink.JetStreamSink`` (``VOUCH_NATS_URL``) implements the same protocol.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from core_api.db.outbox import OutboxRow
from core_api.events import Context, Envelope, EventType, new_event, to_wire
from core_api.events.landing import write_landing_file
from settings import Settings

log = logging.getLogger(__name__)


def emit(
    session: Session,
    event_type: EventType,
    *,
    actor_id: str,
    subject_id: str,
    payload: dict[str, Any],
    context: Context | dict[str, Any] | None = None,
    occurred_at: datetime | None = None,
) -> Envelope:
    """Add a validated event to the session's transaction; raises ValidationError if invalid.
    ``occurred_at`` (default now): a write that takes a ``now`` (tests, simulations) dates its
    events with it, so the labels they become fall on the simulated day."""
    event = new_event(
        event_type,
        actor_id=actor_id,
        subject_id=subject_id,
        payload=payload,
        context=context,
        occurred_at=occurred_at,
    )
    session.add(
        OutboxRow(
            event_id=str(event.event_id),
            event_type=str(event.event_type),
            occurred_at=event.occurred_at,
            line=to_wire(event),
        )
    )
    return event


class EventSink(Protocol):
    def deliver(self, lines: Sequence[bytes]) -> None:
        """Accept every line durably or raise; a partial delivery must also raise."""


class LandingSink:
    """One NDJSON file per relay batch under ``<landing>/<arrival UTC day>/``, the layout the
    ingest reads. The file appears by an atomic rename, so the ingest never sees half a batch."""

    def __init__(self, landing: Path, *, clock: Callable[[], datetime] | None = None) -> None:
        self.landing = landing
        self.clock = clock or (lambda: datetime.now(UTC))

    def deliver(self, lines: Sequence[bytes]) -> None:
        write_landing_file(self.landing, lines, now=self.clock(), source="api")

    def ready(self) -> None:
        """Raise unless a batch could be written now (for ``/ready``)."""
        self.landing.mkdir(parents=True, exist_ok=True)
        if not os.access(self.landing, os.W_OK | os.X_OK):
            raise PermissionError(f"landing {self.landing} is not writable")


def sink_for(settings: Settings) -> EventSink:
    if settings.nats_url:
        from core_api.events.nats_sink import JetStreamSink  # the embedded default never loads nats

        return JetStreamSink(settings.nats_url)
    return LandingSink(settings.landing)


def relay_pending(
    sessions: sessionmaker[Session], sink: EventSink, *, batch: int = 500, max_batches: int = 100
) -> int:
    """Deliver undelivered outbox rows in commit order; returns how many were delivered."""
    delivered = 0
    for _ in range(max_batches):
        n = _relay_batch(sessions, sink, batch=batch)
        delivered += n
        if n < batch:
            break
    return delivered


def _relay_batch(sessions: sessionmaker[Session], sink: EventSink, *, batch: int) -> int:
    with sessions() as session:
        # SKIP LOCKED lets several relays share the work on PostgreSQL; SQLite ignores it and
        # serialises writers, which may deliver a batch twice (allowed: at least once).
        rows = session.execute(
            select(OutboxRow.id, OutboxRow.line)
            .where(OutboxRow.delivered_at.is_(None))
            .order_by(OutboxRow.id)
            .limit(batch)
            .with_for_update(skip_locked=True)
        ).all()
        if not rows:
            return 0
        ids = [r.id for r in rows]
        try:
            sink.deliver([r.line for r in rows])
        except Exception as exc:
            log.warning("outbox relay: sink refused %d events: %s", len(ids), exc)
            session.rollback()
            _record_failure(session, ids, error=repr(exc))
            return 0
        session.execute(
            update(OutboxRow)
            .where(OutboxRow.id.in_(ids))
            .values(delivered_at=datetime.now(UTC), attempts=OutboxRow.attempts + 1)
        )
        session.commit()
        return len(ids)


def _record_failure(session: Session, ids: list[int], *, error: str) -> None:
    session.execute(
        update(OutboxRow)
        .where(OutboxRow.id.in_(ids))
        .values(attempts=OutboxRow.attempts + 1, last_error=error[:2000])
    )
    session.commit()

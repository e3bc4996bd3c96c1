"""Tiny hand-made lakes for the graph and feed tests, written through the real ingest."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from core_api.events import SYSTEM_ACTOR_ID, new_event, to_wire
from pipelines.ingest import Lake, ingest_days, landing_partitions

H, D, M = timedelta(hours=1), timedelta(days=1), timedelta(minutes=1)
T0 = datetime(2026, 3, 2, 12, tzinfo=UTC)


def uid(name: str) -> str:
    """A stable UUID per name; ``system`` is the envelope's system actor."""
    return SYSTEM_ACTOR_ID if name == "system" else str(uuid.uuid5(uuid.NAMESPACE_DNS, name))


def ev(
    kind: str,
    at: datetime,
    *,
    by: str,
    on: str | None = None,
    device: str | None = None,
    ip: str | None = None,
    **payload: Any,
) -> bytes:
    """One wire line: ``by`` acts on ``on`` (default itself), both names (see ``uid``); payload
    ids are passed as UUIDs. The event id follows from the content, so a re-sent line dedupes."""
    context = {k: v for k, v in (("device_id", device), ("ip", ip)) if v is not None}
    return to_wire(
        new_event(
            kind,
            actor_id=uid(by),
            subject_id=uid(on or by),
            payload=payload,
            context=context,
            occurred_at=at,
            event_id=uuid.uuid5(uuid.NAMESPACE_URL, f"{kind}/{by}/{on}/{at.isoformat()}/{payload}"),
        )
    )


def register(name: str, at: datetime, **ctx: Any) -> bytes:
    return ev(
        "USER_REGISTERED", at, by=name, email_domain="example.com", signup_channel="web", **ctx
    )


def write_lake(root: Path, lines: Iterable[bytes], *, batch: str = "a") -> Path:
    """Ingest ``lines`` (one landing file per event day) into ``root``'s lake; returns the events
    directory. Calling it again on the same root appends (what 'later events arrive' means)."""
    landing = root / f"landing-{batch}"
    by_day: dict[str, list[bytes]] = {}
    for line in lines:
        day = line.split(b'"occurred_at":"')[1][:10].decode()
        by_day.setdefault(day, []).append(line)
    for day, day_lines in by_day.items():
        folder = landing / day
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"{batch}.ndjson").write_bytes(b"\n".join(day_lines) + b"\n")
    lake = Lake(root / "lake")
    ingest_days(landing, sorted(landing_partitions(landing)), lake=lake)
    return lake.events_dir

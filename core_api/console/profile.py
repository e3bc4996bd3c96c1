"""Who the case's user is, and what happened to them: the profile and the paged timeline.

The timeline merges three sources newest first: the lake's events (what the platform saw, up
to the last ingest), the core database's outbox past the lake's newest event (what the API
emitted since: not ingested yet) and its account-status audit (what staff did). Each source is
read past the same keyset (time, id), so paging is exact across them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

import orjson
from sqlalchemy import select
from sqlalchemy.orm import Session

from core_api.console import warehouse
from core_api.db.admin import StatusAudit
from core_api.db.identity import Device, User
from core_api.db.outbox import OutboxRow
from settings import Settings


def _aware(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


@dataclass(frozen=True)
class Profile:
    user: User
    age_days: int
    devices: list[Device]
    sightings: list[warehouse.Sighting]

    @property
    def verifications(self) -> list[str]:
        done = [("e-mail", self.user.email_verified_at), ("phone", self.user.phone_verified_at)]
        return [name for name, at in done if at is not None]

    def seen(self, kind: str) -> list[warehouse.Sighting]:
        return [s for s in self.sightings if s.kind == kind]


def profile(db: Session, settings: Settings, *, user: User) -> Profile:
    devices = db.scalars(
        select(Device).where(Device.user_id == user.id).order_by(Device.last_seen_at.desc())
    ).all()
    age = datetime.now(UTC) - _aware(user.created_at)
    return Profile(
        user=user,
        age_days=max(0, age.days),
        devices=list(devices),
        sightings=warehouse.sightings(settings, user.id),
    )


@dataclass(frozen=True)
class Item:
    at: datetime
    # Unique within the timeline, the keyset's tie-breaker: an event id, or "staff:<n>" (one
    # ordering of strings in Python and DuckDB alike, so each source pages past the same key).
    key: str
    source: str  # lake, api (emitted, not ingested yet), staff
    kind: str
    said: str


def _event_said(event: warehouse.Event, user_id: str) -> str:
    # "→ other" when the user acted on someone, "← other" when someone acted on the user.
    other = event.subject_id if event.actor_id == user_id else event.actor_id
    parts = [] if other == user_id else [("→ " if event.actor_id == user_id else "← ") + other[:8]]
    parts += [f"{k} {v}" for k, v in event.detail.items()]
    where = [w for w in (event.device, event.ip, event.country) if w]
    if where:
        parts.append("from " + " / ".join(where))
    return ", ".join(parts)


def timeline(
    db: Session,
    settings: Settings,
    *,
    user_id: str,
    before: tuple[datetime, str] | None = None,
    limit: int = 25,
) -> tuple[list[Item], tuple[datetime, str] | None]:
    """One page, newest first, and the keyset of the next page (None at the end)."""
    items = [
        Item(e.at, e.event_id, "lake", e.event_type, _event_said(e, user_id))
        for e in warehouse.events(settings, user_id, before=before, limit=limit + 1)
    ]
    items += _not_ingested(db, settings, user_id=user_id, before=before)
    query = select(StatusAudit).where(StatusAudit.user_id == user_id)
    if before is not None:
        # The audit's keys are integers: compare on time only, then on the key in Python.
        query = query.where(StatusAudit.at <= before[0])
    audits = db.scalars(query.order_by(StatusAudit.at.desc()).limit(limit + 1)).all()
    for row in audits:
        said = f"{row.status_before} → {row.status_after} ({row.reason_code}) {row.note}".strip()
        items.append(Item(_aware(row.at), f"staff:{row.id:012d}", "staff", "STATUS", said))
    if before is not None:
        items = [i for i in items if (i.at, i.key) < (_aware(before[0]), before[1])]
    items = list({i.key: i for i in items}.values())  # an event both relayed and ingested
    items.sort(key=lambda i: (i.at, i.key), reverse=True)
    page = items[:limit]
    more = len(items) > limit
    return page, ((page[-1].at, page[-1].key) if more and page else None)


# The outbox rows a page parses at most: what the API emitted since the last ingest is a
# bounded window in normal running; past it, the lake has them.
PENDING_SCAN = 5000


def _not_ingested(
    db: Session, settings: Settings, *, user_id: str, before: tuple[datetime, str] | None
) -> list[Item]:
    query = select(OutboxRow.line)
    since = warehouse.newest_event_at(settings)
    if since is not None:
        query = query.where(OutboxRow.occurred_at > since)
    if before is not None:
        query = query.where(OutboxRow.occurred_at <= before[0])
    lines = db.scalars(query.order_by(OutboxRow.id.desc()).limit(PENDING_SCAN))
    items = []
    for line in lines:
        event = orjson.loads(line)
        if user_id not in (event.get("actor_id"), event.get("subject_id")):
            continue
        context, payload = event.get("context") or {}, event.get("payload") or {}
        said = warehouse.Event(
            at=_aware(datetime.fromisoformat(event["occurred_at"])),
            event_id=event["event_id"],
            event_type=event["event_type"],
            actor_id=event["actor_id"],
            subject_id=event["subject_id"],
            device=context.get("device_id"),
            ip=context.get("ip"),
            country=context.get("country"),
            detail={
                k: str(payload[k]) for k in warehouse.PAYLOAD_SAID if payload.get(k) is not None
            },
        )
        items.append(
            Item(said.at, said.event_id, "api", said.event_type, _event_said(said, user_id))
        )
    return items

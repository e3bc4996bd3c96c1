"""What the case page reads from the lake and the feature store, one user at a time.

``core_api`` may not import ``features`` or ``pipelines`` (docs/architecture.md), so the few
layout names it needs are copied here, once, and ``tests/core_api/console/test_warehouse.py``
pins them to their homes (``pipelines.ingest.lake``, ``pipelines.feature_store``,
``features.platform_graph.store``). Reads go through DuckDB over Parquet with the user's id as
a filter, so a page costs one scan of the columns it needs, and a missing table (no pipeline has
run yet) reads as nothing rather than an error.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb

from settings import Settings

EVENTS = "events"  # <lake>/events/event_date=D/*.parquet
EVENT_PARTITION = "event_date="
SNAPSHOT_PARTITION = "snapshot_date="  # <features>/<table>/snapshot_date=D/part-0.parquet
PART = "part-0.parquet"
GRAPH = "trust_graph"  # <features>/trust_graph/snapshot_date=D/relation=R/part-0.parquet
MANIFEST = "_manifest.json"


@dataclass(frozen=True)
class Event:
    at: datetime
    event_id: str
    event_type: str
    actor_id: str
    subject_id: str
    device: str | None
    ip: str | None
    country: str | None
    detail: dict[str, Any]


@dataclass(frozen=True)
class Point:
    at: datetime
    risk: float
    band: str


def _utc(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _query(sql: str, params: list[object]) -> list[tuple[Any, ...]]:
    with duckdb.connect() as con:
        con.execute("SET TimeZone = 'UTC'")
        return con.execute(sql, params).fetchall()


def _partitions(table: Path) -> list[date]:
    found = table.glob(f"{SNAPSHOT_PARTITION}*")
    return sorted(date.fromisoformat(p.name.removeprefix(SNAPSHOT_PARTITION)) for p in found)


def latest_part(settings: Settings, table: str) -> Path | None:
    """The newest snapshot partition's file of a feature table, if any."""
    root = settings.features / table
    for day in reversed(_partitions(root)):
        path = root / f"{SNAPSHOT_PARTITION}{day.isoformat()}" / PART
        if path.exists():
            return path
    return None


PAYLOAD_SAID = ("amount", "currency", "account_status", "decision", "reason_code", "verification")


def _days(settings: Settings) -> list[tuple[date, Path]]:
    """The lake's date partitions that hold files, oldest first."""
    root = settings.lake / EVENTS
    found = [
        (date.fromisoformat(p.name.removeprefix(EVENT_PARTITION)), p)
        for p in root.glob(f"{EVENT_PARTITION}*")
    ]
    return sorted((d, p) for d, p in found if any(p.glob("*.parquet")))


def newest_event_at(settings: Settings) -> datetime | None:
    """When the lake's newest event happened (its newest date partition only): what the core
    database emitted after it has not been ingested yet."""
    days = _days(settings)
    if not days:
        return None
    rows = _query("SELECT max(occurred_at) FROM read_parquet(?)", [str(days[-1][1] / "*.parquet")])
    return _utc(rows[0][0]) if rows and rows[0][0] is not None else None


# Days of partitions a timeline page reads first, then wider: an active user's page comes from
# the last week, a quiet one's from further back (the lake has a partition per day of history,
# hundreds of them: listing only the window's files is what keeps a page fast).
WINDOWS_DAYS = (7, 35, None)


def events(
    settings: Settings, user_id: str, *, before: tuple[datetime, str] | None = None, limit: int = 25
) -> list[Event]:
    """The user's events (as actor or subject), newest first, ``limit`` after the keyset
    ``before`` (occurred_at, event_id)."""
    days = _days(settings)
    if before is not None:
        days = [(d, p) for d, p in days if d <= _utc(before[0]).date()]
    if not days:
        return []
    top = days[-1][0]
    rows: list[tuple[Any, ...]] = []
    for window in WINDOWS_DAYS:
        since = top - timedelta(days=window) if window is not None else date.min
        files = [str(f) for d, p in days if d >= since for f in sorted(p.glob("*.parquet"))]
        rows = _event_rows(files, user_id, before=before, limit=limit)
        if len(rows) >= limit or since <= days[0][0]:
            break
    return [
        Event(
            at=_utc(r[0]),
            event_id=r[1],
            event_type=r[2],
            actor_id=r[3],
            subject_id=r[4],
            device=r[5],
            ip=r[6],
            country=r[7],
            detail={k: v for k, v in zip(PAYLOAD_SAID, r[8:], strict=True) if v is not None},
        )
        for r in rows
    ]


def _event_rows(
    files: list[str], user_id: str, *, before: tuple[datetime, str] | None, limit: int
) -> list[tuple[Any, ...]]:
    where = ["(actor_id = ? OR subject_id = ?)"]
    params: list[object] = [files, user_id, user_id]
    if before is not None:
        at = _utc(before[0])
        where.append("(occurred_at, event_id) < (?, ?)")
        params += [at, before[1]]
    said = ", ".join(f"TRY(payload.{f}::VARCHAR)" for f in PAYLOAD_SAID)
    return _query(
        f"SELECT occurred_at, event_id, event_type, actor_id, subject_id, context.device_id, "
        f"context.ip, context.country, {said} "
        f"FROM read_parquet(?, union_by_name = true) "
        f"WHERE {' AND '.join(where)} ORDER BY occurred_at DESC, event_id DESC LIMIT ?",
        [*params, limit],
    )


@dataclass(frozen=True)
class Sighting:
    kind: str  # device, ip, country
    value: str
    events: int
    first: datetime
    last: datetime


SIGHTINGS_DAYS = 90


def sightings(settings: Settings, user_id: str, *, limit: int = 12) -> list[Sighting]:
    """Devices, IPs and countries the user acted from in the lake's last ``SIGHTINGS_DAYS``
    days, most used first."""
    days = _days(settings)
    if not days:
        return []
    since = days[-1][0] - timedelta(days=SIGHTINGS_DAYS)
    files = [str(f) for d, p in days if d >= since for f in sorted(p.glob("*.parquet"))]
    rows = _query(
        "WITH mine AS (SELECT occurred_at, context.device_id AS device, context.ip AS ip, "
        "context.country AS country FROM read_parquet(?, union_by_name = true) "
        "WHERE actor_id = ?), "
        "seen AS (SELECT 'device' AS kind, device AS value, occurred_at FROM mine "
        "UNION ALL SELECT 'ip', ip, occurred_at FROM mine "
        "UNION ALL SELECT 'country', country, occurred_at FROM mine) "
        "SELECT kind, value, count(*) AS n, min(occurred_at), max(occurred_at) FROM seen "
        "WHERE value IS NOT NULL GROUP BY kind, value "
        "QUALIFY row_number() OVER (PARTITION BY kind ORDER BY n DESC, value) <= ? "
        "ORDER BY kind, n DESC, value",
        [files, user_id, limit],
    )
    return [Sighting(r[0], r[1], int(r[2]), _utc(r[3]), _utc(r[4])) for r in rows]


def risk_history(settings: Settings, user_id: str) -> list[Point]:
    """The user's risk at each past snapshot: the model's ``risk_history`` where it has been
    written, else one point per ``user_scores`` partition."""
    path = latest_part(settings, "risk_history")
    if path is not None:
        rows = _query(
            'SELECT "at", any_value(fraud_risk), any_value(band) FROM read_parquet(?) '
            'WHERE user_id = ? GROUP BY "at" ORDER BY "at"',
            [str(path), user_id],
        )
        if rows:
            return [Point(_utc(r[0]), float(r[1]), str(r[2])) for r in rows]
    root = settings.features / "user_scores"
    if not _partitions(root):
        return []
    rows = _query(
        "SELECT scored_at, fraud_risk, band FROM read_parquet(?) WHERE user_id = ? "
        "ORDER BY scored_at",
        [str(root / "*" / PART), user_id],
    )
    return [Point(_utc(r[0]), float(r[1]), str(r[2])) for r in rows]


@dataclass(frozen=True)
class Score:
    risk: float
    band: str
    trust: float
    reasons: tuple[str, ...]
    scored_at: datetime
    model_version: str


def latest_scores(settings: Settings, user_ids: list[str]) -> dict[str, Score]:
    """The newest ``user_scores`` row of each user (absent when unscored)."""
    path = latest_part(settings, "user_scores")
    if path is None or not user_ids:
        return {}
    rows = _query(
        "SELECT user_id, fraud_risk, band, trust, reasons, scored_at, model_version "
        "FROM read_parquet(?) WHERE list_contains(?, user_id)",
        [str(path), user_ids],
    )
    return {
        r[0]: Score(float(r[1]), str(r[2]), float(r[3]), tuple(r[4] or ()), _utc(r[5]), r[6])
        for r in rows
    }


@dataclass(frozen=True)
class GraphEdge:
    src: str
    dst: str
    relation: str
    weight: float
    events: int


def graph_edges(settings: Settings, user_id: str, *, limit: int = 60) -> list[GraphEdge]:
    """The pipeline's latest platform-graph snapshot: every edge touching the user, strongest
    first (shared devices and IPs, trust, money, reports and blocks)."""
    root = settings.features / GRAPH
    done = [d for d in _partitions(root) if (root / f"{SNAPSHOT_PARTITION}{d}" / MANIFEST).exists()]
    if not done:
        return []
    directory = root / f"{SNAPSHOT_PARTITION}{done[-1].isoformat()}"
    if not any(directory.glob("relation=*/*.parquet")):
        return []
    rows = _query(
        "SELECT src, dst, relation, weight, events FROM read_parquet(?, hive_partitioning = "
        "true) WHERE src = ? OR dst = ? ORDER BY abs(weight) DESC, src, dst LIMIT ?",
        [str(directory / "relation=*" / "*.parquet"), user_id, user_id, limit],
    )
    return [GraphEdge(r[0], r[1], str(r[2]), float(r[3]), int(r[4])) for r in rows]

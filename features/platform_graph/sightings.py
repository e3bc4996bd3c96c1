"""Which users were seen on which devices and IPs: the user–entity bipartite graph.

A sighting is a (user, device id) or (user, IP) pair from any event's ``context`` whose actor is a
user, or from a DEVICE_ADDED payload. The bipartite frame itself feeds the ring signals
(:mod:`features.platform_graph.rings`); its one-mode projection becomes the ``shared_device`` /
``shared_ip`` relations of the trust graph:

- only entities seen with 2..``max_users`` users link anyone: one user alone links nobody, and a
  carrier NAT or café IP seen with hundreds of users says nothing about any pair of them (and
  would cost a quadratic number of edges);
- a pair's weight is ``min(1, sum over shared entities of 1 / log2(k))`` with k the entity's
  user count (Adamic–Adar style): a device used by exactly two accounts is a full-strength link,
  one shared by sixteen counts a quarter;
- edges go both ways; ``time`` is when the pair was first observable (the later of the two first
  sightings, earliest over shared entities).
"""

from __future__ import annotations

from datetime import datetime

import polars as pl

from features.lake import SYSTEM_ACTOR_ID, EventSource, read_events

SIGHTING_SCHEMA = pl.Schema(
    {
        "user_id": pl.String(),
        "kind": pl.String(),  # "device" | "ip"
        "entity": pl.String(),
        "first_seen": pl.Datetime("us", "UTC"),
        "last_seen": pl.Datetime("us", "UTC"),
        "events": pl.UInt32(),
    }
)
KINDS = {"device": "shared_device", "ip": "shared_ip"}


def read_sightings(source: EventSource, at: datetime) -> pl.DataFrame:
    """User–device and user–IP sightings from events before ``at`` (SIGHTING_SCHEMA)."""
    seen = read_events(
        source,
        {
            "user_id": "actor_id",
            "device": "context.device_id",
            "ip": "context.ip",
            "first_seen": "min(occurred_at)",
            "last_seen": "max(occurred_at)",
            "events": "count(*)",
        },
        before=at,
        where=f"actor_id <> '{SYSTEM_ACTOR_ID}' "
        "AND (context.device_id IS NOT NULL OR context.ip IS NOT NULL)",
        group_by=("user_id", "device", "ip"),
    )
    added = read_events(
        source,
        {
            "user_id": "subject_id",
            "entity": "payload.device_id",
            "first_seen": "min(occurred_at)",
            "last_seen": "max(occurred_at)",
            "events": "count(*)",
        },
        types=("DEVICE_ADDED",),
        before=at,
        group_by=("user_id", "entity"),
    )
    parts = [added.with_columns(kind=pl.lit("device"))]
    for kind in ("device", "ip"):
        part = seen.drop_nulls(kind).rename({kind: "entity"})
        parts.append(part.with_columns(kind=pl.lit(kind)))
    frame = pl.concat([p.select(list(SIGHTING_SCHEMA)).cast(SIGHTING_SCHEMA) for p in parts])
    return (
        frame.group_by("user_id", "kind", "entity")
        .agg(
            pl.col("first_seen").min(),
            pl.col("last_seen").max(),
            pl.col("events").sum(),
        )
        .sort("kind", "entity", "user_id")
    )


def entity_users(sightings: pl.DataFrame) -> pl.DataFrame:
    """Sightings with ``users``: how many distinct users each entity was seen with."""
    return sightings.with_columns(users=pl.len().over("kind", "entity").cast(pl.UInt32))


def shared_entity_edges(sightings: pl.DataFrame, *, max_users: int = 30) -> pl.DataFrame:
    """The shared_device / shared_ip edges (src, dst, relation, weight, time, events)."""
    linked = (
        entity_users(sightings)
        .filter(pl.col("users").is_between(2, max_users))
        .select("kind", "entity", "user_id", "first_seen", "users")
    )
    pairs = linked.join(linked, on=("kind", "entity"), suffix="_other").filter(
        pl.col("user_id") != pl.col("user_id_other")
    )
    return (
        pairs.with_columns(
            share=1.0 / pl.col("users").cast(pl.Float64).log(2),
            since=pl.max_horizontal("first_seen", "first_seen_other"),
        )
        .group_by("kind", "user_id", "user_id_other")
        .agg(
            weight=pl.col("share").sum().clip(upper_bound=1.0),
            time=pl.col("since").min(),
            events=pl.len().cast(pl.UInt32),
        )
        .select(
            src=pl.col("user_id"),
            dst=pl.col("user_id_other"),
            relation=pl.col("kind").replace_strict(KINDS),
            weight="weight",
            time="time",
            events="events",
        )
    )

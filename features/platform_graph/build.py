"""The platform's trust graph as of a snapshot time, built from lake events.

One long edge frame (``EDGE_SCHEMA``): one row per (src, dst, relation), already aggregated, so the
frame is what gets stored and what becomes a :class:`features.trust_engine.graph.SignedGraph`.
Only events with ``occurred_at < at`` count. Relations and signs (weights in [-1, 1]):

- ``friend`` / ``follow`` / ``verified_connection``: the latest TRUST_CONNECTION_ADDED weight of
  that edge type, unless a later TRUST_CONNECTION_REMOVED took it back. USER_FOLLOWED also makes a
  ``follow`` edge of weight ``EdgeWeights.follow``; a pair with both keeps the larger weight.
- ``money``: orders whose latest status is ``delivered`` (buyer -> seller; scams, refunds and
  disputes never reach it) and TRANSFER_SENT (sender -> recipient). Amounts of a pair add up; the
  weight is ``log1p(total) / log1p(money_cap)`` capped at 1. Currencies are not converted: the
  lake carries no rates, and the log scale keeps the error of a mixed sum small.
- ``shared_device`` / ``shared_ip``: see :mod:`features.platform_graph.sightings` (symmetric).
- ``report`` / ``block``: negative, ``-min(1, n * magnitude)`` for n reports / blocks of a pair.

``time`` is when the edge (in its current state) came to exist, ``events`` how many events
made it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import numpy as np
import polars as pl

from features.lake import SYSTEM_ACTOR_ID, EventSource, read_events, utc
from features.platform_graph.sightings import read_sightings, shared_entity_edges
from features.trust_engine.graph import RELATIONS, SignedGraph

TRUST_TYPES = ("friend", "follow", "verified_connection")
EDGE_SCHEMA = pl.Schema(
    {
        "src": pl.String(),
        "dst": pl.String(),
        "relation": pl.String(),
        "weight": pl.Float64(),
        "time": pl.Datetime("us", "UTC"),
        "events": pl.UInt32(),
    }
)


@dataclass(frozen=True)
class EdgeWeights:
    """The knobs of the edge recipe; the defaults are what the snapshots use."""

    follow: float = 0.2  # following is interest more than trust
    money_cap: float = 10_000.0  # a pair's total amount at which the money weight reaches 1
    report: float = 1.0  # one report is already a clear statement of distrust
    block: float = 0.5  # blocks are often about annoyance, not fraud
    max_entity_users: int = 30  # devices / IPs shared by more users are NATs or hotspots


def _aggregate(frame: pl.DataFrame, relation: str, *, weight: pl.Expr) -> pl.DataFrame:
    """(src, dst, time, value) rows -> one edge per pair; ``weight`` sees ``total`` and ``n``."""
    return (
        frame.filter(pl.col("src") != pl.col("dst"))
        .group_by("src", "dst")
        .agg(
            total=pl.col("value").sum(),
            n=pl.len(),
            first=pl.col("time").min(),
            last=pl.col("time").max(),
        )
        .select(
            "src",
            "dst",
            relation=pl.lit(relation),
            weight=weight,
            time=pl.col("last") if relation == "money" else pl.col("first"),
            events=pl.col("n").cast(pl.UInt32),
        )
    )


def trust_edges(source: EventSource, at: datetime) -> pl.DataFrame:
    events = read_events(
        source,
        {
            "src": "actor_id",
            "dst": "subject_id",
            "time": "occurred_at",
            "relation": "payload.edge_type",
            "added": "event_type = 'TRUST_CONNECTION_ADDED'",
            "weight": "payload.weight",
            "event_id": "event_id",
        },
        types=("TRUST_CONNECTION_ADDED", "TRUST_CONNECTION_REMOVED"),
        before=at,
    )
    # Ties at the same microsecond resolve the same way on every rebuild (event_id order).
    return (
        events.filter(pl.col("src") != pl.col("dst"))
        .sort("time", "event_id")
        .group_by("src", "dst", "relation")
        .agg(
            pl.col("added").last(),
            pl.col("weight").last(),
            pl.col("time").last(),
            events=pl.len().cast(pl.UInt32),
        )
        .filter(pl.col("added"))
        .select(list(EDGE_SCHEMA))
    )


def follow_edges(source: EventSource, at: datetime, *, weights: EdgeWeights) -> pl.DataFrame:
    events = read_events(
        source,
        {"src": "actor_id", "dst": "subject_id", "time": "occurred_at", "value": "1.0::DOUBLE"},
        types=("USER_FOLLOWED",),
        before=at,
    )
    return _aggregate(events, "follow", weight=pl.lit(weights.follow))


def money_edges(source: EventSource, at: datetime, *, weights: EdgeWeights) -> pl.DataFrame:
    placed = read_events(
        source,
        {
            "order_id": "subject_id",
            "src": "actor_id",
            "dst": "payload.seller_id",
            "value": "CAST(payload.amount AS DOUBLE)",
        },
        types=("ORDER_PLACED",),
        before=at,
    )
    status = read_events(
        source,
        {
            "order_id": "subject_id",
            "time": "occurred_at",
            "status": "payload.order_status",
            "event_id": "event_id",
        },
        types=("ORDER_STATUS_CHANGED",),
        before=at,
    )
    delivered = (
        status.sort("time", "event_id")
        .group_by("order_id")
        .agg(pl.col("status").last(), pl.col("time").last())
        .filter(pl.col("status") == "delivered")
    )
    orders = placed.unique("order_id", keep="first").join(delivered, on="order_id")
    transfers = read_events(
        source,
        {
            "src": "actor_id",
            "dst": "subject_id",
            "time": "occurred_at",
            "value": "CAST(payload.amount AS DOUBLE)",
        },
        types=("TRANSFER_SENT",),
        before=at,
    )
    cols = ["src", "dst", "time", "value"]
    flows = pl.concat([orders.select(cols), transfers.select(cols)])
    scale = float(np.log1p(weights.money_cap))
    return _aggregate(flows, "money", weight=(pl.col("total").log1p() / scale).clip(0.0, 1.0))


def negative_edges(source: EventSource, at: datetime, *, weights: EdgeWeights) -> pl.DataFrame:
    events = read_events(
        source,
        {
            "src": "actor_id",
            "dst": "subject_id",
            "time": "occurred_at",
            "value": "1.0::DOUBLE",
            "kind": "event_type",
        },
        types=("USER_REPORTED", "USER_BLOCKED"),
        before=at,
    )
    parts = []
    for kind, relation, unit in (
        ("USER_REPORTED", "report", weights.report),
        ("USER_BLOCKED", "block", weights.block),
    ):
        part = events.filter(pl.col("kind") == kind)
        parts.append(_aggregate(part, relation, weight=-(pl.col("n") * unit).clip(upper_bound=1.0)))
    return pl.concat(parts)


def graph_nodes(source: EventSource, at: datetime) -> pl.DataFrame:
    """Users registered before ``at``: nodes of the graph even without an edge."""
    return read_events(
        source,
        {"user_id": "subject_id", "registered_at": "occurred_at"},
        types=("USER_REGISTERED",),
        before=at,
    ).unique("user_id", keep="first")


def graph_edges(
    source: EventSource, at: datetime, *, weights: EdgeWeights | None = None
) -> pl.DataFrame:
    """Every relation's edges as of ``at`` (EDGE_SCHEMA), sorted for stable storage."""
    weights = weights or EdgeWeights()
    at = utc(at)
    sightings = read_sightings(source, at)
    parts = [
        trust_edges(source, at),
        follow_edges(source, at, weights=weights),
        money_edges(source, at, weights=weights),
        shared_entity_edges(sightings, max_users=weights.max_entity_users),
        negative_edges(source, at, weights=weights),
    ]
    edges = pl.concat([p.select(list(EDGE_SCHEMA)).cast(EDGE_SCHEMA) for p in parts])
    # A pair that both follows and has a follow-type trust connection is one follow edge.
    edges = (
        edges.filter(
            (pl.col("src") != pl.col("dst"))
            & (pl.col("src") != SYSTEM_ACTOR_ID)
            & (pl.col("dst") != SYSTEM_ACTOR_ID)
        )
        .group_by("src", "dst", "relation")
        .agg(
            pl.col("weight").get(pl.col("weight").abs().arg_max()),
            pl.col("time").min(),
            pl.col("events").sum(),
        )
    )
    return edges.select(list(EDGE_SCHEMA)).sort("relation", "src", "dst")


def to_signed_graph(edges: pl.DataFrame, *, nodes: pl.Series | None = None) -> SignedGraph:
    """An edge frame (EDGE_SCHEMA) as a SignedGraph; ``nodes`` adds users without edges.

    Same contract as ``SignedGraph.from_edges`` (ids sorted, dense ints in that order), with the
    id mapping done by polars joins: numpy's unique on millions of Python strings is ~10x slower.
    """
    unknown = set(edges.get_column("relation").unique().to_list()) - set(RELATIONS)
    if unknown:
        raise ValueError(
            f"relations not in features.trust_engine.graph.RELATIONS: {sorted(unknown)}"
        )
    every = [edges.get_column("src"), edges.get_column("dst")]
    if nodes is not None:
        every.append(nodes.cast(pl.String))
    ids = pl.concat([s.alias("id") for s in every]).unique().sort()
    index = pl.DataFrame({"id": ids, "i": pl.int_range(ids.len(), dtype=pl.Int32, eager=True)})
    codes = {name: i for i, name in enumerate(RELATIONS)}
    dense = edges.select(
        src=pl.col("src").replace_strict(index["id"], index["i"], return_dtype=pl.Int32),
        dst=pl.col("dst").replace_strict(index["id"], index["i"], return_dtype=pl.Int32),
        weight=pl.col("weight").cast(pl.Float64),
        time=pl.col("time").dt.epoch("us").cast(pl.Float64) / 1e6,
        relation=pl.col("relation").replace_strict(codes, return_dtype=pl.Int8),
    )
    return SignedGraph(
        ids=ids.to_numpy().astype(str),
        src=dense.get_column("src").to_numpy(),
        dst=dense.get_column("dst").to_numpy(),
        weight=dense.get_column("weight").to_numpy(),
        time=dense.get_column("time").to_numpy(),
        relation=dense.get_column("relation").to_numpy(),
    )


def build_graph(
    source: EventSource, at: datetime, *, weights: EdgeWeights | None = None
) -> SignedGraph:
    """The whole pipeline in one call: lake -> edges -> SignedGraph over registered users."""
    edges = graph_edges(source, at, weights=weights)
    return to_signed_graph(edges, nodes=graph_nodes(source, at).get_column("user_id"))

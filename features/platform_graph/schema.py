"""The platform-graph output contract: every table's columns, dtypes and meanings.

Conventions: a snapshot "at t" uses only events with ``occurred_at < t`` (strictly before). Null
means "undefined" (a share with an empty denominator, a block a user is not in); columns marked
``nullable=False`` are never null. Tests check every producer against these lists.
"""

from __future__ import annotations

import polars as pl

from features.columns import Feature, polars_schema
from features.trust_engine.graph import RELATIONS

__all__ = ["Feature", "polars_schema"]  # the shared column description, re-exported

SCHEMA_VERSION = "platform-graph/1"


TS = pl.Datetime("us", "UTC")
S, F64, U32, I64, I32, I8, B = (
    pl.String,
    pl.Float64,
    pl.UInt32,
    pl.Int64,
    pl.Int32,
    pl.Int8,
    pl.Boolean,
)

EDGES = (
    Feature(
        "src",
        S,
        "user id the edge starts at (who trusts, pays, reports; either user for shared_*)",
    ),
    Feature("dst", S, "user id the edge points to"),
    Feature(
        "relation", S, "one of features.trust_engine.graph.RELATIONS (stored as the partition name)"
    ),
    Feature(
        "weight",
        F64,
        "in [-1, 1]: trust weight, capped log money, shared-entity strength; negative for "
        "report/block",
    ),
    Feature(
        "time",
        TS,
        "when the edge in its current state came to exist (money: the latest flow)",
    ),
    Feature("events", U32, "events aggregated into the edge (shared_*: entities the pair shares)"),
)

NODES = (
    Feature("user_id", S, "a user registered before the snapshot time"),
    Feature("registered_at", TS, "the user's USER_REGISTERED time"),
)

SIGHTINGS = (
    Feature("user_id", S, "user seen on the entity (actor of the event, or DEVICE_ADDED subject)"),
    Feature("kind", S, "'device' or 'ip'"),
    Feature("entity", S, "the device id or IP address"),
    Feature("first_seen", TS, "first event with the user on the entity"),
    Feature("last_seen", TS, "last event with the user on the entity"),
    Feature("events", U32, "events with the user on the entity"),
)


def _ring(kind: str, where: str) -> tuple[Feature, ...]:
    p = f"ring_{kind}"
    return (
        Feature(
            f"{p}_density",
            F64,
            f"FRAUDAR density g of the user's block in the user–{where} graph; 0 = no block. "
            f"Crews of shared devices and datacenter IPs reach ~0.5-0.65, carrier-NAT groups "
            f"~0.25-0.36",
        ),
        Feature(
            f"{p}_block",
            I32,
            f"rank of that block by density among the {where} blocks (0 = densest)",
            nullable=True,
        ),
        Feature(f"{p}_block_users", U32, "users in the block (0 = no block)"),
        Feature(f"{p}_block_entities", U32, f"{where} entities in the block (0 = no block)"),
    )


RING_SIGNALS = (
    Feature("user_id", S, "a user with at least one device or IP sighting"),
    *_ring("device", "device"),
    *_ring("ip", "IP"),
    *_ring("device_ip", "device-and-IP"),
)

DENSE_BLOCKS = (
    Feature("user_id", S, "a member of the block"),
    Feature("block", I32, "block rank by density within this graph kind (0 = densest)"),
    Feature("density", F64, "FRAUDAR density g = weighted edges / (users + entities) of the block"),
    Feature("block_users", U32, "users in the block"),
    Feature("block_entities", U32, "devices / IPs in the block"),
    Feature(
        "round", I8, "peeling round that found it (0 = first; later rounds split what is left)"
    ),
)

CLUSTER_SIGNALS = (
    Feature("user_id", S, "a registered or sighted user"),
    Feature("component", I64, "connected component of the shared-device/IP graph (0 = largest)"),
    Feature("component_size", U32, "users in the component (1 = shares nothing)"),
    Feature(
        "component_burst_share",
        F64,
        "share of the component's users registered within 6 h of another member (0 for singletons)",
    ),
    Feature("community", I64, "label-propagation community in that graph (0 = largest)"),
    Feature("community_size", U32, "users in the community"),
    Feature("community_burst_share", F64, "as component_burst_share, for the community"),
)

FLAG_HISTORY = (
    Feature("user_id", S, "user whose flag changed"),
    Feature("changed_at", TS, "time of the REVIEW_DECISION / ACCOUNT_STATUS_CHANGED"),
    Feature(
        "flagged",
        B,
        "flagged from then on (confirmed fraud or banned) or cleared (cleared / active)",
    ),
)

_RELATION_DEGREES = tuple(
    Feature(f"{side}_{r}", U32, f"{'incoming' if side == 'in' else 'outgoing'} {r} edges")
    for r in RELATIONS
    for side in ("in", "out")
)

NEIGHBOURHOOD_STATS = (
    Feature("user_id", S, "a node of the snapshot"),
    *_RELATION_DEGREES,
    Feature("trust_out", U32, "outgoing positive friend/follow/verified_connection edges"),
    Feature("trust_in", U32, "incoming positive friend/follow/verified_connection edges"),
    Feature(
        "trust_reciprocity",
        F64,
        "share of outgoing trust edges whose target trusts back (any trust relation)",
        nullable=True,
    ),
    Feature(
        "negative_in_share",
        F64,
        "incoming report/block edges over incoming statement edges (rating, trust, money, report,"
        " block); shared_* are not statements",
        nullable=True,
    ),
    Feature("in_weight_positive", F64, "summed weight of incoming positive statement edges"),
    Feature("in_weight_negative", F64, "summed |weight| of incoming report/block edges"),
    Feature("neighbours", U32, "distinct users linked by any edge, either direction"),
    Feature("flagged_neighbours", U32, "of those, flagged ones"),
    Feature("flagged_neighbour_share", F64, "flagged_neighbours / neighbours", nullable=True),
    Feature("shared_neighbours", U32, "distinct users sharing a device or IP (shared_* edges)"),
    Feature("shared_flagged_neighbours", U32, "of those, flagged ones"),
    Feature(
        "shared_flagged_neighbour_share",
        F64,
        "shared_flagged_neighbours / shared_neighbours",
        nullable=True,
    ),
    Feature("is_flagged", B, "the user itself is in the flagged set given"),
)


# Per user and snapshot (features.platform_graph.aggregates): the neighbours' fraud features,
# grouped by relation.
NEIGHBOUR_GROUPS: dict[str, tuple[str, ...]] = {
    "shared": ("shared_device", "shared_ip"),
    "money": ("money",),
    "social": ("friend", "follow", "verified_connection", "rating"),
}
NEIGHBOUR_COLUMNS = (
    "account_age_days",
    "verified_id",
    "devices_n_ever",
    "failed_payments_n_30d",
    "failed_payment_ratio_30d",
    "chargebacks_n_ever",
    "disputes_lost_n_ever",
    "reports_received_n_ever",
    "blocks_received_n_ever",
    "fraud_confirmed_n_ever",
    "account_restricted",
    "listings_underpriced_n_ever",
    "fan_in_senders_30d",
    "pass_through_ratio_7d",
    "takeover_story_steps",
)
NEIGHBOUR_STATISTICS = ("mean", "max")


def _neighbour_features() -> tuple[Feature, ...]:
    out = []
    for group, relations in NEIGHBOUR_GROUPS.items():
        via = "/".join(relations)
        out.append(Feature(f"nb_{group}_count", I64, f"distinct neighbours by {via} edges"))
        out += [
            Feature(
                f"nb_{group}_{stat}_{column}",
                F64,
                f"{stat} of those neighbours' {column} at the same time (null: no neighbours)",
                nullable=True,
            )
            for stat in NEIGHBOUR_STATISTICS
            for column in NEIGHBOUR_COLUMNS
        ]
    return tuple(out)


NEIGHBOUR_FEATURES: tuple[Feature, ...] = _neighbour_features()

"""The platform's per-user trust: the trust engine run on the platform graph, tempered by rings.

Recipe (nothing is fitted; every input is unsupervised):

- The *engine* (``features.trust_engine.score_graph``) runs on the graph's endorsement relations
  only (trust connections, follows, money, reports, blocks; shared devices and IPs are evidence of
  rings, not endorsements). Seeds: users verified by phone or identity document whose account is
  at least ``seed_age`` old and who have received no report or block.
- ``graph_risk`` in [0, 1] is a noisy-OR of three ring signals, each in [0, 1]: the density of the
  user's densest device+IP block (FRAUDAR), the share of the user's incoming edges that are
  reports or blocks, and, for communities of 3 or more on shared devices/IPs, the share of the
  community that signed up within a short burst of each other.
- ``trust = engine_trust * (1 - graph_risk)``: a ring member keeps only the trust the ring cannot
  manufacture.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

import numpy as np
import polars as pl

from features.lake import EventSource, read_events, utc
from features.platform_graph.build import EdgeWeights, graph_edges, graph_nodes, to_signed_graph
from features.platform_graph.signals import user_signals
from features.trust_engine import TrustConfig, score_graph

ENDORSEMENTS = ("friend", "follow", "verified_connection", "money", "report", "block")
SEED_VERIFICATIONS = ("phone", "id_document")


@dataclass(frozen=True)
class PlatformTrustConfig:
    seed_age: timedelta = timedelta(days=30)
    min_community: int = 3  # smaller shared-device groups are households, not rings
    engine: TrustConfig = field(default_factory=TrustConfig)
    weights: EdgeWeights = field(default_factory=EdgeWeights)


def platform_seeds(
    source: EventSource,
    at: datetime,
    *,
    nodes: pl.DataFrame,
    edges: pl.DataFrame,
    seed_age: timedelta,
) -> list[str]:
    """Verified, long-standing users nobody has reported or blocked (as of ``at``)."""
    verified = read_events(
        source,
        {"user_id": "actor_id", "kind": "payload.verification"},
        types=("VERIFICATION_COMPLETED",),
        before=at,
    )
    verified = verified.filter(pl.col("kind").is_in(SEED_VERIFICATIONS))
    accused = edges.filter(pl.col("relation").is_in(["report", "block"])).get_column("dst")
    old = nodes.filter(pl.col("registered_at") <= at - seed_age).get_column("user_id")
    chosen = set(old.to_list()) & set(verified.get_column("user_id").to_list())
    return sorted(chosen - set(accused.to_list()))


def graph_risk(signals: pl.DataFrame, *, min_community: int = 3) -> pl.Expr:
    """Noisy-OR of ring density, negative incoming share and community sign-up burst."""
    density = pl.col("ring_device_ip_density").fill_null(0.0).clip(0.0, 1.0)
    negative = pl.col("negative_in_share").fill_null(0.0).clip(0.0, 1.0)
    burst = (
        pl.when(pl.col("community_size") >= min_community)
        .then(pl.col("community_burst_share").fill_null(0.0).clip(0.0, 1.0))
        .otherwise(0.0)
    )
    return (1.0 - (1.0 - density) * (1.0 - negative) * (1.0 - burst)).alias("graph_risk")


def platform_trust(
    source: EventSource,
    at: datetime,
    *,
    edges: pl.DataFrame | None = None,
    nodes: pl.DataFrame | None = None,
    config: PlatformTrustConfig | None = None,
) -> pl.DataFrame:
    """One row per user known at ``at``: ``trust``, its parts and every graph signal.

    Columns: ``user_id``, ``snapshot_at``, ``trust``, ``engine_trust``, ``graph_risk``, the
    engine's component scores (``reach``, ``fairness``, ``goodness``, ``evidence_trust``,
    ``seed``, ...) and the ring, cluster and neighbourhood signals (``features.platform_graph``).
    ``edges`` and ``nodes`` (a stored snapshot of the same time) are built from the lake if absent.
    """
    config = config or PlatformTrustConfig()
    at = utc(at)
    nodes = graph_nodes(source, at) if nodes is None else nodes
    edges = graph_edges(source, at, weights=config.weights) if edges is None else edges
    users = nodes.get_column("user_id")
    full = to_signed_graph(edges, nodes=users)
    endorsing = to_signed_graph(edges.filter(pl.col("relation").is_in(ENDORSEMENTS)), nodes=users)
    seeds = platform_seeds(source, at, nodes=nodes, edges=edges, seed_age=config.seed_age)
    dense = endorsing.index_of(np.array(seeds, dtype=object)) if seeds else np.empty(0, np.int64)
    engine = score_graph(endorsing, seeds=dense[dense >= 0], config=config.engine).rename(
        {"node_id": "user_id", "trust": "engine_trust"}
    )
    signals = user_signals(source, at, graph=full, weights=config.weights)
    frame = engine.join(signals, on="user_id", how="left")
    frame = frame.with_columns(graph_risk(frame, min_community=config.min_community))
    trust = (pl.col("engine_trust") * (1.0 - pl.col("graph_risk"))).clip(0.0, 1.0).alias("trust")
    return frame.with_columns(trust, pl.lit(at).alias("snapshot_at")).select(
        "user_id",
        "snapshot_at",
        "trust",
        "engine_trust",
        "graph_risk",
        pl.exclude("user_id", "snapshot_at", "trust", "engine_trust", "graph_risk"),
    )

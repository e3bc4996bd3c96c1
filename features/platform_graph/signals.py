"""Every per-user graph signal of one snapshot time in one frame: rings, clusters, neighbourhood.

This is what the fraud features join as "the trust-graph signals of the latest snapshot before
t"; the trust scores themselves live in ``features.trust_engine``.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

import polars as pl

from features.lake import EventSource, utc
from features.platform_graph.build import EdgeWeights, graph_edges, graph_nodes, to_signed_graph
from features.platform_graph.clusters import cluster_signals
from features.platform_graph.neighbourhood import flagged_users, neighbourhood_stats
from features.platform_graph.rings import ring_signals
from features.platform_graph.schema import CLUSTER_SIGNALS, NEIGHBOURHOOD_STATS, RING_SIGNALS
from features.platform_graph.sightings import read_sightings
from features.trust_engine.graph import SignedGraph


def user_signals(
    source: EventSource,
    at: datetime,
    *,
    graph: SignedGraph | None = None,
    flagged: Iterable[str] | None = None,
    weights: EdgeWeights | None = None,
) -> pl.DataFrame:
    """One row per registered user (and any other graph node) as of ``at``.

    ``graph`` (e.g. a stored snapshot for the same time) and ``flagged`` are read from the lake
    when not given. Users without sightings get density 0, sizes 1 and null block ranks.
    """
    at = utc(at)
    weights = weights or EdgeWeights()
    nodes = graph_nodes(source, at)
    if graph is None:
        graph = to_signed_graph(graph_edges(source, at, weights=weights), nodes=nodes["user_id"])
    flagged = flagged_users(source, at) if flagged is None else flagged
    sightings = read_sightings(source, at)
    frame = neighbourhood_stats(graph, flagged=flagged)
    frame = frame.join(ring_signals(sightings), on="user_id", how="left").join(
        cluster_signals(sightings, nodes, max_users=weights.max_entity_users),
        on="user_id",
        how="left",
    )
    fill = {
        c.name: (0.0 if c.name.endswith("density") else 0)
        for c in RING_SIGNALS
        if not c.nullable and c.name != "user_id"
    }
    frame = frame.with_columns(pl.col(name).fill_null(value) for name, value in fill.items())
    # A graph node without sightings or registration (rare) is a singleton cluster.
    frame = frame.with_columns(
        pl.col("component_size", "community_size").fill_null(1),
        pl.col("component_burst_share", "community_burst_share").fill_null(0.0),
    )
    columns = [c.name for c in (*NEIGHBOURHOOD_STATS, *RING_SIGNALS[1:], *CLUSTER_SIGNALS[1:])]
    return frame.select(columns).sort("user_id")

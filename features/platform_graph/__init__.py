"""The platform's trust graph from the lake: snapshots, ring and cluster signals, neighbourhoods.

A plain library (polars / DuckDB / numpy / scipy). Modules: ``lake`` (point-in-time reads),
``build`` (edges and SignedGraph), ``sightings`` (user–device / user–IP), ``store`` (partitioned
snapshots), ``rings`` (FRAUDAR dense blocks), ``clusters`` (components, communities, bursts),
``neighbourhood`` (flags and neighbourhood statistics), ``signals`` (all per-user signals),
``schema`` (the output contract).
"""

from features.lake import SYSTEM_ACTOR_ID, read_events
from features.platform_graph.build import (
    EDGE_SCHEMA,
    EdgeWeights,
    build_graph,
    graph_edges,
    graph_nodes,
    to_signed_graph,
)
from features.platform_graph.clusters import burst_share, cluster_signals, label_propagation
from features.platform_graph.neighbourhood import (
    flag_history,
    flagged_as_of,
    flagged_users,
    neighbourhood_stats,
)
from features.platform_graph.rings import (
    Bipartite,
    block_density,
    component_blocks,
    dense_blocks,
    densest_block,
    peel,
    ring_signals,
)
from features.platform_graph.sightings import read_sightings, shared_entity_edges
from features.platform_graph.signals import user_signals
from features.platform_graph.store import (
    build_snapshot,
    latest_snapshot_date,
    read_snapshot,
    read_snapshot_edges,
    read_snapshot_nodes,
    snapshot_dates,
    snapshot_time,
    write_snapshot,
)

__all__ = [
    "EDGE_SCHEMA",
    "SYSTEM_ACTOR_ID",
    "Bipartite",
    "EdgeWeights",
    "block_density",
    "build_graph",
    "build_snapshot",
    "burst_share",
    "cluster_signals",
    "component_blocks",
    "dense_blocks",
    "densest_block",
    "flag_history",
    "flagged_as_of",
    "flagged_users",
    "graph_edges",
    "graph_nodes",
    "label_propagation",
    "latest_snapshot_date",
    "neighbourhood_stats",
    "peel",
    "read_events",
    "read_sightings",
    "read_snapshot",
    "read_snapshot_edges",
    "read_snapshot_nodes",
    "ring_signals",
    "shared_entity_edges",
    "snapshot_dates",
    "snapshot_time",
    "to_signed_graph",
    "user_signals",
    "write_snapshot",
]

"""The platform's own graph, read from the lake: edges, rings, clusters, neighbourhoods, trust.

Where ``features.trust_engine`` scores any signed graph (Bitcoin OTC as well as ours), this room
knows the platform: which events make which edges, what a ring looks like here, and (``trust``)
how the engine's score is tempered by ring signals into each user's published ``trust``.
A plain library (polars / DuckDB / numpy / scipy). Modules: ``build`` (edges and SignedGraph),
``sightings`` (user–device / user–IP), ``store`` (partitioned snapshots), ``rings`` (FRAUDAR
dense blocks), ``clusters`` (components, communities, bursts), ``neighbourhood`` (flags and
neighbourhood statistics), ``signals`` (all per-user signals), ``schema`` (the output contract),
``trust`` (per-user platform trust).
"""

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

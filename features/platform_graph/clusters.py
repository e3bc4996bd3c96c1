"""Components and communities of the shared-device / shared-IP graph, and sign-up bursts in them.

The graph is the one-mode projection of :mod:`features.platform_graph.sightings` (users linked by
an entity seen with 2..``max_users`` users; both device and IP links, weights added). On it:

- connected components (scipy, linear time);
- communities by label propagation, vectorised: each round every node takes the label with the
  largest total edge weight among its neighbours (ties to the smaller label). Only a random half
  of the nodes moves per round, which stops the two-colour flip-flop that fully synchronous
  propagation falls into on bipartite-like pieces. Seeded, so reruns agree; ~1 s per million
  edges and round, where networkx's Louvain would need minutes at platform scale;
- burst share: the share of a cluster's members registered within ``burst`` of another member.
  Sybil rings sign up within hours of each other; users behind one carrier NAT do not.

Users in no shared link are singletons: size 1, burst share 0.
"""

from __future__ import annotations

from datetime import timedelta

import numpy as np
import polars as pl
import scipy.sparse as sp
from scipy.sparse.csgraph import connected_components

from features.platform_graph.sightings import shared_entity_edges


def _projection(sightings: pl.DataFrame, *, max_users: int) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(users with a dense index, undirected weighted edges i < j over that index)."""
    users = sightings.select(pl.col("user_id").unique().sort()).with_row_index("i")
    edges = (
        shared_entity_edges(sightings, max_users=max_users)
        .join(users.rename({"user_id": "src", "i": "a"}), on="src")
        .join(users.rename({"user_id": "dst", "i": "b"}), on="dst")
        .filter(pl.col("a") < pl.col("b"))
        .group_by("a", "b")
        .agg(pl.col("weight").sum())
    )
    return users, edges


# The formats ``label_propagation`` takes. Not ``sp.sparray | sp.spmatrix``: those are marker
# classes without the matrix methods (in scipy and in its stubs alike).
Adjacency = (
    sp.csr_array | sp.csr_matrix | sp.csc_array | sp.csc_matrix | sp.coo_array | sp.coo_matrix
)


def label_propagation(adjacency: Adjacency, *, rounds: int = 30, seed: int = 0) -> np.ndarray:
    """Community labels of an undirected weighted graph (a square sparse matrix; either triangle
    or both may be given, weights add up). Each label is the id of some node of its community."""
    sym = sp.coo_matrix(adjacency + adjacency.T)
    src, dst, weight = sym.row.astype(np.int64), sym.col.astype(np.int64), sym.data
    keep = src != dst
    src, dst, weight = src[keep], dst[keep], weight[keep].astype(np.float64)
    rng = np.random.default_rng(seed)
    labels = np.arange(sym.shape[0], dtype=np.int64)
    for _ in range(rounds):
        votes = (
            pl.DataFrame({"node": src, "label": labels[dst], "w": weight})
            .group_by("node", "label")
            .agg(pl.col("w").sum())
            .sort(["node", "w", "label"], descending=[False, True, False])
            .unique("node", keep="first")
        )
        node = votes.get_column("node").to_numpy()
        best = votes.get_column("label").to_numpy()
        move = (best != labels[node]) & (rng.random(node.size) < 0.5)
        if not move.any():
            # Half the movers were held back at random: stop only when nobody wants to move.
            if (best == labels[node]).all():
                break
            continue
        labels[node[move]] = best[move]
    return labels


def burst_share(members: pl.DataFrame, *, cluster: str, burst: timedelta) -> pl.DataFrame:
    """Per cluster: the share of members registered within ``burst`` of another member.

    ``members`` has the ``cluster`` column and ``registered_at`` (null = unknown, never in a burst).
    """
    span = int(burst.total_seconds() * 1e6)
    known = members.drop_nulls("registered_at").sort(cluster, "registered_at")
    t = known.get_column("registered_at").dt.epoch("us").to_numpy()
    c = known.get_column(cluster).to_numpy()
    same_prev = np.r_[False, c[1:] == c[:-1]]
    same_next = np.r_[c[1:] == c[:-1], False]
    gap_prev = np.r_[np.inf, np.diff(t)]
    gap_next = np.r_[np.diff(t), np.inf]
    close = (same_prev & (gap_prev <= span)) | (same_next & (gap_next <= span))
    bursty = known.select(cluster).with_columns(close=pl.Series(close))
    sizes = members.group_by(cluster).agg(size=pl.len())
    return sizes.join(
        bursty.group_by(cluster).agg(pl.col("close").sum()), on=cluster, how="left"
    ).select(cluster, share=pl.col("close").fill_null(0) / pl.col("size"))


def cluster_signals(
    sightings: pl.DataFrame,
    registrations: pl.DataFrame,
    *,
    max_users: int = 30,
    burst: timedelta = timedelta(hours=6),
    seed: int = 0,
) -> pl.DataFrame:
    """Per user of ``registrations`` (user_id, registered_at) or ``sightings``:
    component / community id, size and burst share."""
    users, edges = _projection(sightings, max_users=max_users)
    n = users.height
    a = edges.get_column("a").cast(pl.Int64).to_numpy()
    b = edges.get_column("b").cast(pl.Int64).to_numpy()
    w = edges.get_column("weight").to_numpy()
    graph = sp.csr_matrix((w, (a, b)), shape=(n, n))
    _, component = connected_components(graph, directed=False)
    community = label_propagation(graph, seed=seed)
    everyone = pl.concat([users.select("user_id"), registrations.select("user_id")]).unique()
    frame = (
        everyone.join(
            users.with_columns(
                component=pl.Series(component, dtype=pl.Int64),
                community=pl.Series(community, dtype=pl.Int64),
            ).drop("i"),
            on="user_id",
            how="left",
        )
        .join(
            registrations.select("user_id", "registered_at").unique("user_id"),
            on="user_id",
            how="left",
        )
        .sort("user_id")
    )
    # Users without any sighting still get their own singleton cluster ids.
    fresh = pl.int_range(pl.len(), dtype=pl.Int64) + n
    frame = frame.with_columns(
        component=pl.col("component").fill_null(fresh),
        community=pl.col("community").fill_null(fresh),
    )
    for name in ("component", "community"):
        shares = burst_share(frame, cluster=name, burst=burst)
        frame = frame.with_columns(pl.len().over(name).cast(pl.UInt32).alias(f"{name}_size")).join(
            shares.rename({"share": f"{name}_burst_share"}), on=name, how="left"
        )
    # Dense, size-ordered ids: 0 is the biggest component / community.
    for name in ("component", "community"):
        order = (
            frame.group_by(name)
            .agg(size=pl.len(), first=pl.col("user_id").min())
            .sort(["size", "first"], descending=[True, False])
            .with_row_index("id")
        )
        frame = (
            frame.join(order.select(name, "id"), on=name)
            .with_columns(pl.col("id").cast(pl.Int64).alias(name))
            .drop("id")
        )
    return frame.select(
        "user_id",
        "component",
        "component_size",
        "component_burst_share",
        "community",
        "community_size",
        "community_burst_share",
    ).sort("user_id")

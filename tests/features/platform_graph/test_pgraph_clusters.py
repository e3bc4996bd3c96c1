from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

import networkx as nx
import numpy as np
import polars as pl
import pytest
import scipy.sparse as sp

from features.platform_graph import (
    burst_share,
    cluster_signals,
    graph_nodes,
    label_propagation,
    read_sightings,
    shared_entity_edges,
)
from features.platform_graph.schema import CLUSTER_SIGNALS, polars_schema
from tests.conftest import SmallLake
from tests.features.platform_graph.pgraph_lakes import T0, H


def test_label_propagation_splits_two_bridged_cliques() -> None:
    a, b = zip(*[(i, j) for i in range(6) for j in range(i + 1, 6)], strict=True)
    left = np.array(a)
    right = np.array(b)
    src = np.r_[left, left + 6, 5]
    dst = np.r_[right, right + 6, 6]  # one bridge 5 - 6
    graph = sp.coo_matrix((np.ones(src.size), (src, dst)), shape=(12, 12))
    labels = label_propagation(graph, seed=1)
    assert len(set(labels[:6])) == 1 and len(set(labels[6:])) == 1
    assert labels[0] != labels[6]
    assert np.array_equal(labels, label_propagation(graph.tocsr(), seed=1))


def test_burst_share_counts_members_registered_close_to_another() -> None:
    members = pl.DataFrame(
        {
            "cluster": [1, 1, 1, 2, 3, 3],
            "registered_at": [T0, T0 + H, T0 + 10 * H, T0, T0, None],
        },
        schema={"cluster": pl.Int64, "registered_at": pl.Datetime("us", "UTC")},
    )
    shares = burst_share(members, cluster="cluster", burst=timedelta(hours=6))
    assert dict(shares.sort("cluster").iter_rows()) == {1: pytest.approx(2 / 3), 2: 0.0, 3: 0.0}


@pytest.fixture(scope="module")
def small_clusters(small_lake: SmallLake) -> tuple[pl.DataFrame, pl.DataFrame]:
    end = datetime.combine(small_lake.start, time(), tzinfo=UTC) + timedelta(days=small_lake.days)
    sightings = read_sightings(small_lake.events, end)
    signals = cluster_signals(sightings, graph_nodes(small_lake.events, end))
    return sightings, signals


def test_components_agree_with_networkx(small_clusters: tuple[pl.DataFrame, pl.DataFrame]) -> None:
    sightings, signals = small_clusters
    assert dict(signals.schema) == polars_schema(CLUSTER_SIGNALS)
    assert signals.null_count().sum_horizontal().item() == 0
    edges = shared_entity_edges(sightings)
    graph = nx.Graph()
    graph.add_nodes_from(signals["user_id"])
    graph.add_edges_from(edges.select("src", "dst").iter_rows())
    ours = {frozenset(g) for g in signals.group_by("component").agg("user_id")["user_id"]}
    theirs = {frozenset(c) for c in nx.connected_components(graph)}
    assert ours == theirs
    sizes = signals.group_by("component").agg(pl.len(), pl.col("component_size").first())
    assert (sizes["len"] == sizes["component_size"]).all()
    # Communities refine components.
    per_community = signals.group_by("community").agg(pl.col("component").n_unique())
    assert (per_community["component"] == 1).all()


def test_sybil_rings_are_sign_up_bursts(
    small_lake: SmallLake, small_clusters: tuple[pl.DataFrame, pl.DataFrame]
) -> None:
    truth = pl.read_parquet(small_lake.truth / "users.parquet")
    joined = small_clusters[1].join(truth.select("user_id", "typology"), on="user_id")
    sybil = joined.filter(pl.col("typology") == "sybil_ring")
    honest = joined.filter(pl.col("typology").is_null())
    assert sybil["community_burst_share"].mean() >= 0.9
    assert honest["community_burst_share"].mean() <= 0.1
    assert sybil["component_size"].median() >= 5 > honest["component_size"].median()

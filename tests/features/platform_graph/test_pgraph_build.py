from __future__ import annotations

from pathlib import Path

import numpy as np
import polars as pl
import pytest

from features.platform_graph import (
    EDGE_SCHEMA,
    build_graph,
    build_snapshot,
    graph_edges,
    latest_snapshot_date,
    read_sightings,
    read_snapshot,
    read_snapshot_edges,
    snapshot_dates,
    snapshot_time,
    to_signed_graph,
)
from features.platform_graph.schema import EDGES, NODES, SIGHTINGS, polars_schema
from features.trust_engine.graph import RELATIONS, SignedGraph
from tests.features.platform_graph.conftest import IP3, MONEY_100, SNAPSHOT, USERS
from tests.features.platform_graph.pgraph_lakes import T0, D, H, uid

# (src, dst, relation) -> (weight, events): the story in conftest, worked out by hand.
EXPECTED = {
    ("alice", "bob", "friend"): (0.7, 1),
    ("alice", "bob", "verified_connection"): (0.9, 1),
    ("dave", "alice", "follow"): (0.3, 2),  # a follow-type connection and a USER_FOLLOWED
    ("eve", "bob", "follow"): (0.2, 1),
    ("bob", "seller", "money"): (MONEY_100, 1),  # delivered; the other two orders are not
    ("alice", "carol", "money"): (MONEY_100, 2),  # 30 + 70
    ("alice", "bob", "shared_device"): (1.0, 1),
    ("bob", "alice", "shared_device"): (1.0, 1),
    **{
        (a, b, "shared_ip"): (IP3, 1)
        for a in ("alice", "bob", "carol")
        for b in ("alice", "bob", "carol")
        if a != b
    },
    ("eve", "alice", "report"): (-1.0, 1),
    ("eve", "bob", "block"): (-1.0, 2),
    ("bob", "eve", "block"): (-0.5, 1),
}
NAMES = {uid(u): u for u in USERS}


def _named(edges: pl.DataFrame) -> dict[tuple[str, str, str], tuple[float, int]]:
    return {
        (NAMES[r["src"]], NAMES[r["dst"]], r["relation"]): (r["weight"], r["events"])
        for r in edges.iter_rows(named=True)
    }


def test_edges_are_exactly_the_hand_worked_ones(story_lake: Path) -> None:
    edges = graph_edges(story_lake, SNAPSHOT)
    assert dict(edges.schema) == polars_schema(EDGES)
    got = _named(edges)
    assert got.keys() == EXPECTED.keys()
    for key, (weight, events) in EXPECTED.items():
        assert got[key][0] == pytest.approx(weight, abs=1e-12), key
        assert got[key][1] == events, key
    times = {k: t for k, t in zip(_named(edges), edges["time"], strict=True)}
    assert times[("dave", "alice", "follow")] == T0  # the earlier of the two follow events
    assert times[("alice", "carol", "money")] == T0 + H  # money: the latest flow
    assert times[("alice", "bob", "shared_device")] == T0 + 3 * H  # when bob added the device


def test_sightings_leave_out_the_system_actor(story_lake: Path) -> None:
    sightings = read_sightings(story_lake, SNAPSHOT)
    assert dict(sightings.schema) == polars_schema(SIGHTINGS)
    shared = sightings.filter(pl.col("entity").is_in(["dev-shared", "10.9.9.9"]))
    assert set(shared["user_id"].replace_strict(NAMES)) == {"alice", "bob", "carol"}


def test_a_snapshot_ignores_later_events(story_lake: Path, story_lake_later: Path) -> None:
    before = graph_edges(story_lake, SNAPSHOT)
    assert graph_edges(story_lake_later, SNAPSHOT).equals(before)
    after = _named(graph_edges(story_lake_later, SNAPSHOT + 3 * D))
    assert ("alice", "bob", "verified_connection") not in after  # removed later
    assert after[("bob", "alice", "money")][1] == 1
    assert after[("alice", "bob", "shared_device")][0] == pytest.approx(1 / np.log2(3))


def test_graph_matches_signed_graph_from_edges(story_lake: Path) -> None:
    graph = build_graph(story_lake, SNAPSHOT)
    edges = graph_edges(story_lake, SNAPSHOT)
    reference = SignedGraph.from_edges(
        edges["src"].to_numpy(),
        edges["dst"].to_numpy(),
        weight=edges["weight"].to_numpy(),
        ids=np.array([uid(u) for u in USERS]),
    )
    assert graph.n == len(USERS) == reference.n
    assert list(graph.ids) == list(reference.ids)
    assert np.array_equal(graph.src, reference.src)
    assert np.array_equal(graph.dst, reference.dst)
    assert [RELATIONS[r] for r in graph.relation] == edges["relation"].to_list()
    dense = graph.adjacency(sign=-1).toarray()
    assert dense[graph.index_of(np.array([uid("eve")]))[0]].sum() == pytest.approx(2.0)


def test_snapshots_round_trip_and_rebuild(story_lake: Path, tmp_path: Path) -> None:
    day = SNAPSHOT.date()
    path = build_snapshot(story_lake, tmp_path, snapshot_date=day)
    assert path.name == f"snapshot_date={day.isoformat()}"
    assert sorted(p.name for p in path.iterdir()) == sorted(
        ["_manifest.json", "nodes.parquet", *{f"relation={k[2]}" for k in EXPECTED}]
    )
    stored = read_snapshot_edges(tmp_path, day)
    assert dict(stored.schema) == EDGE_SCHEMA
    expected = graph_edges(story_lake, snapshot_time(day))
    assert stored.sort("relation", "src", "dst").equals(expected)
    graph = read_snapshot(tmp_path, day)
    assert graph.n == len(USERS) and graph.m == len(EXPECTED)
    money = read_snapshot(tmp_path, day, relations=["money"])
    assert money.n == len(USERS) and money.m == 2
    nodes = pl.read_parquet(path / "nodes.parquet")
    assert dict(nodes.schema) == polars_schema(NODES)
    # A rebuild replaces the partition in place.
    build_snapshot(story_lake, tmp_path, snapshot_date=day)
    assert snapshot_dates(tmp_path) == [day]
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]
    assert latest_snapshot_date(tmp_path, snapshot_time(day)) == day
    assert latest_snapshot_date(tmp_path, snapshot_time(day) - H) is None


def test_unknown_relations_are_refused() -> None:
    edges = pl.DataFrame(
        {
            "src": ["a"],
            "dst": ["b"],
            "relation": ["likes"],
            "weight": [1.0],
            "time": [T0],
            "events": [1],
        },
        schema=EDGE_SCHEMA,
    )
    with pytest.raises(ValueError, match="likes"):
        to_signed_graph(edges)


def test_a_frame_with_the_lake_columns_reads_like_the_lake(story_lake: Path) -> None:
    frame = pl.read_parquet(story_lake / "*" / "*.parquet", hive_partitioning=True)
    assert graph_edges(frame, SNAPSHOT).equals(graph_edges(story_lake, SNAPSHOT))

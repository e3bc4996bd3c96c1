"""Neighbour aggregation on tiny graphs whose answers are known by hand."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest

from features.neighbours import adjacency, aggregate, neighbour_features

# 0-1, 0-2, 1-2 (a triangle), 2-3 (a pendant); 4 is isolated; a repeated edge and a self-loop.
SRC = np.array([0, 0, 1, 2, 1, 3])
DST = np.array([1, 2, 2, 3, 0, 3])
VALUES = np.array([1.0, 2.0, 4.0, 8.0, 16.0])


def test_adjacency_is_symmetric_without_self_loops_or_repeats() -> None:
    a = adjacency(SRC, DST, n=5).toarray()
    expected = np.zeros((5, 5))
    for i, j in [(0, 1), (0, 2), (1, 2), (2, 3)]:
        expected[i, j] = expected[j, i] = 1.0
    np.testing.assert_array_equal(a, expected)


def test_adjacency_directions_pick_out_or_in_neighbours() -> None:
    out = adjacency(np.array([0, 0]), np.array([1, 2]), n=3, direction="out").toarray()
    into = adjacency(np.array([0, 0]), np.array([1, 2]), n=3, direction="in").toarray()
    assert out[0].tolist() == [0, 1, 1] and out[1].sum() == 0
    assert into[1].tolist() == [1, 0, 0] and into[0].sum() == 0


def test_adjacency_rejects_ids_outside_the_graph() -> None:
    with pytest.raises(ValueError, match="node ids"):
        adjacency(np.array([0]), np.array([5]), n=3)


def test_aggregate_statistics_by_hand() -> None:
    stats = aggregate(adjacency(SRC, DST, n=5), VALUES, how=("sum", "mean", "max", "min", "std"))
    # node 2's neighbours are 0, 1, 3 (values 1, 2, 8); node 3's is 2 (value 4); 4 has none.
    assert stats["sum"][:, 0].tolist() == [6.0, 5.0, 11.0, 4.0, 0.0]
    assert stats["mean"][2, 0] == pytest.approx(11 / 3)
    assert stats["max"][:, 0][:4].tolist() == [4.0, 4.0, 8.0, 4.0]
    assert stats["min"][:, 0][:4].tolist() == [2.0, 1.0, 1.0, 4.0]
    assert stats["std"][0, 0] == pytest.approx(1.0)  # values 2 and 4
    assert stats["std"][2, 0] == pytest.approx(np.std([1.0, 2.0, 8.0]))
    assert all(np.isnan(stats[s][4, 0]) for s in ("mean", "max", "min", "std"))


def test_aggregate_weights_the_mean_but_not_the_max() -> None:
    a = adjacency(np.array([0, 0]), np.array([1, 2]), n=3, weight=np.array([3.0, 1.0]))
    stats = aggregate(a, np.array([0.0, 10.0, 20.0]), how=("mean", "max", "sum"))
    assert stats["mean"][0, 0] == pytest.approx((3 * 10 + 1 * 20) / 4)
    assert stats["sum"][0, 0] == pytest.approx(50.0)
    assert stats["max"][0, 0] == 20.0


def test_aggregate_max_over_many_columns_matches_a_loop() -> None:
    rng = np.random.default_rng(0)
    src, dst = rng.integers(0, 40, 200), rng.integers(0, 40, 200)
    a = adjacency(src, dst, n=40)
    x = rng.normal(size=(40, 7))
    got = aggregate(a, x, how=("max",))["max"]
    for i in range(40):
        nbrs = a[i].indices
        want = x[nbrs].max(axis=0) if len(nbrs) else np.full(7, np.nan)
        np.testing.assert_allclose(got[i], want)


def test_neighbour_features_on_string_ids_with_a_flag() -> None:
    edges = pl.DataFrame(
        {
            "src": ["ann", "ann", "bob", "zed"],
            "dst": ["bob", "cat", "cat", "ann"],
            "w": [1, 1, 1, 9],
        }
    )
    nodes = pl.DataFrame(
        {"node": ["ann", "bob", "cat", "dan"], "x": [1, 2, 4, 8], "bad": [False, True, True, None]}
    )
    out = neighbour_features(edges, nodes, how=("mean", "max"), flags=["bad"])
    assert out["node"].to_list() == ["ann", "bob", "cat", "dan"]
    assert out["nbr_count"].to_list() == [2, 2, 2, 0]  # zed is not a node: its edge is ignored
    assert out["nbr_mean_x"].to_list()[:3] == [3.0, 2.5, 1.5]
    assert out["nbr_max_x"].to_list()[:3] == [4.0, 4.0, 2.0]
    assert out["nbr_bad_count"].to_list() == [2, 1, 1, 0]
    assert out["nbr_bad_share"].to_list()[:3] == [1.0, 0.5, 0.5]


def test_neighbour_features_rejects_repeated_nodes() -> None:
    nodes = pl.DataFrame({"node": [1, 1], "x": [0.0, 1.0]})
    with pytest.raises(ValueError, match="repeated"):
        neighbour_features(pl.DataFrame({"src": [1], "dst": [1]}), nodes)

"""Loading external edge lists, score ranges, the evidence rules and the cold start."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from features.trust_engine.evaluate import cold_start_trust
from features.trust_engine.evidence import DAY, burst_discount, evidence_trust, rater_agreement
from features.trust_engine.graph import SignedGraph
from features.trust_engine.io import read_labels, read_signed_edges
from features.trust_engine.score import TrustConfig, score_graph
from features.trust_engine.seeds import default_seeds

RANGES = {
    "trust": (0, 1),
    "evidence_trust": (0, 1),
    "reach": (0, 1),
    "fairness": (0, 1),
    "goodness": (-1, 1),
    "propagated_trust": (0, 1),
}


def _market(seed: int = 0, n: int = 300, m: int = 3000) -> SignedGraph:
    rng = np.random.default_rng(seed)
    src, dst = rng.integers(0, n, m), rng.integers(0, n, m)
    keep = src != dst
    rating = rng.choice([-10, -3, 1, 2, 5, 10], keep.sum(), p=[0.05, 0.05, 0.4, 0.3, 0.1, 0.1])
    time = 1.3e9 + rng.uniform(0, 3 * 365 * DAY, keep.sum())
    return SignedGraph.from_edges(
        src[keep], dst[keep], weight=rating / 10.0, time=time, ids=np.arange(n + 5)
    )  # 5 nodes without edges


def test_read_signed_edges_normalises_by_the_largest_rating(tmp_path: Path) -> None:
    path = tmp_path / "e.csv"
    path.write_text("7,1,4,1400000000\n1,7,-8,1400000100\n3,3,2,1400000200\n3,1,2,1400000300\n")
    edges = read_signed_edges(path)
    assert edges.rating_scale == 8.0 and edges.self_loops_dropped == 1
    g = edges.graph
    assert g.ids.tolist() == [1, 3, 7] and g.m == 3
    assert sorted(g.weight.tolist()) == [-1.0, 0.25, 0.5]
    assert g.time is not None and g.time.min() == 1400000000


def test_read_signed_edges_without_time_and_with_text_ids(tmp_path: Path) -> None:
    path = tmp_path / "e.csv"
    path.write_text("alice,bob,1\nbob,carol,-1\n")
    g = read_signed_edges(path).graph
    assert g.time is None and g.ids.tolist() == ["alice", "bob", "carol"]
    assert score_graph(g)["trust"].is_between(0, 1).all()


def test_read_labels_deduplicates_and_refuses_conflicts(tmp_path: Path) -> None:
    path = tmp_path / "gt.csv"
    path.write_text("3,+1\n5,-1\n3,+1\n")
    labels = read_labels(path)
    assert labels["node_id"].to_list() == [3, 5] and labels["label"].to_list() == [1, -1]
    path.write_text("3,+1\n3,-1\n")
    with pytest.raises(ValueError, match="conflicting"):
        read_labels(path)
    path.write_text("3,+1\n4,fraud\n")
    with pytest.raises(ValueError, match="labels must be"):
        read_labels(path)


def test_every_score_stays_in_its_documented_range() -> None:
    scores = score_graph(_market())
    assert scores.height == 305 and scores.null_count().sum_horizontal().item() == 0
    for column, (low, high) in RANGES.items():
        values = scores[column].to_numpy()
        assert np.isfinite(values).all() and low <= values.min() and values.max() <= high, column


def test_edgeless_nodes_get_the_cold_start_trust() -> None:
    scores = score_graph(_market())
    edgeless = scores.filter((scores["in_degree"] == 0) & (scores["out_degree"] == 0))
    assert edgeless.height == 5
    assert edgeless["trust"].to_list() == pytest.approx([cold_start_trust(TrustConfig())] * 5)


def test_agreement_leaves_the_rater_out() -> None:
    # 0 alone vouches for 1: no one else speaks for 1, so 0 learns nothing from it.
    # 2 and 3 both pan 4; 5 praises 4 against them.
    g = SignedGraph.from_edges(
        np.array([0, 2, 3, 5]), np.array([1, 4, 4, 4]), weight=np.array([1.0, -1.0, -1.0, 1.0])
    )
    agreement = rater_agreement(g, np.ones(g.m))
    assert agreement[0] == 0.0
    assert agreement[3] == pytest.approx(-2 / 3) and agreement[1] == pytest.approx(0.0)


def test_a_burst_counts_about_once_and_a_track_record_many_times() -> None:
    times = np.array([0, 10, 20, 30, 0, 40 * DAY, 80 * DAY, 120 * DAY], dtype=float)
    nodes = np.array([0, 0, 0, 0, 1, 1, 1, 1])
    discount = burst_discount(nodes, times, window=30 * DAY)
    assert discount[:4].sum() == pytest.approx(1.0) and discount[4:].sum() == pytest.approx(4.0)
    # Node 0 (burst) and node 1 (four months) each vouch for a well-regarded target 2.
    g = SignedGraph.from_edges(
        np.r_[nodes, 3, 4, 5],
        np.r_[np.full(8, 2), 2, 2, 2],
        weight=np.ones(11),
        time=np.r_[times, 0, 0, 0],
    )
    evidence = evidence_trust(g, np.ones(g.m), window=30 * DAY)
    assert evidence.trust[1] > evidence.trust[0] > 0.5


def test_default_seeds_are_well_rated_and_label_free() -> None:
    g = _market()
    seeds = default_seeds(g)
    assert len(seeds) == int(np.ceil(np.sqrt(g.n)))
    neg = np.bincount(g.dst[g.weight < 0], minlength=g.n)
    received = np.bincount(g.dst, minlength=g.n)
    assert (neg[seeds] <= 0.1 * received[seeds]).all()


def test_graphs_without_trust_or_without_edges_still_score() -> None:
    only_distrust = SignedGraph.from_edges(np.array([0, 1]), np.array([1, 2]), weight=-np.ones(2))
    scores = score_graph(only_distrust)
    assert not scores["seed"].any() and (scores["propagated_trust"] == 0).all()
    assert scores["trust"].is_between(0, 1).all()
    assert scores["trust"][1] < cold_start_trust()  # distrusted by 0
    empty = SignedGraph.from_edges(
        np.array([], dtype=np.int64),
        np.array([], dtype=np.int64),
        weight=np.array([]),
        ids=np.arange(3),
    )
    assert score_graph(empty)["trust"].to_list() == pytest.approx([cold_start_trust()] * 3)


BAD_FILES = [
    ("", "no edges"),
    ("1,2,3\n2,3,0\n3,1,x\n", "rating"),
    ("1,2,1,10\n2,1,1,\n", "timestamp"),
]


@pytest.mark.parametrize(("text", "message"), BAD_FILES)
def test_bad_edge_files_are_refused(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "e.csv"
    path.write_text(text)
    with pytest.raises(ValueError, match=message):
        read_signed_edges(path)

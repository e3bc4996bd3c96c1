"""Personalised PageRank and SybilRank-style trust against networkx on small graphs."""

from __future__ import annotations

import math

import networkx as nx
import numpy as np
import pytest

from features.trust_engine.graph import SignedGraph
from features.trust_engine.propagation import (
    personalized_pagerank,
    power_iterate,
    reset_vector,
    seeded_trust,
    solve_pagerank,
    walk_matrix,
)


def _random_graph(n: int, m: int, seed: int) -> SignedGraph:
    rng = np.random.default_rng(seed)
    src, dst = rng.integers(0, n, m), rng.integers(0, n, m)
    keep = src != dst
    pairs = np.unique(np.column_stack([src[keep], dst[keep]]), axis=0)  # nx keeps one per pair
    weight = rng.uniform(0.1, 1.0, len(pairs)) * np.where(rng.random(len(pairs)) < 0.2, -1, 1)
    return SignedGraph.from_edges(pairs[:, 0], pairs[:, 1], weight=weight, ids=np.arange(n))


def _networkx(graph: SignedGraph, seeds: np.ndarray, damping: float) -> np.ndarray:
    g = nx.DiGraph()
    g.add_nodes_from(range(graph.n))
    pos = graph.weight > 0
    g.add_weighted_edges_from(
        zip(
            graph.src[pos].tolist(),
            graph.dst[pos].tolist(),
            graph.weight[pos].tolist(),
            strict=True,
        )
    )
    reset = dict.fromkeys(seeds.tolist(), 1.0)
    scores = nx.pagerank(g, alpha=damping, personalization=reset, tol=1e-14, max_iter=10_000)
    return np.array([scores[i] for i in range(graph.n)])


@pytest.mark.parametrize(
    ("n", "m", "seed", "damping"), [(30, 60, 1, 0.85), (200, 900, 2, 0.85), (120, 300, 3, 0.5)]
)
def test_personalized_pagerank_matches_networkx(n: int, m: int, seed: int, damping: float) -> None:
    graph = _random_graph(n, m, seed)
    seeds = np.array([0, 3, 7])
    ours = personalized_pagerank(graph, seeds, damping=damping, tol=1e-13)
    assert ours.converged
    assert np.abs(ours.scores - _networkx(graph, seeds, damping)).sum() < 1e-8
    assert ours.scores.sum() == pytest.approx(1.0, abs=1e-12)


def test_dangling_mass_returns_to_the_seeds() -> None:
    # 0 -> 1 -> 2, and 2 rates no one: the walk must restart at the seed, not vanish or spread.
    graph = SignedGraph.from_edges(
        np.array([0, 1]), np.array([1, 2]), weight=np.array([1.0, 1.0]), ids=np.arange(4)
    )
    scores = personalized_pagerank(graph, np.array([0]), damping=0.85, tol=1e-14).scores
    expected = _networkx(graph, np.array([0]), 0.85)
    assert np.abs(scores - expected).sum() < 1e-10
    assert scores[3] == 0.0  # unreachable


def test_negative_edges_carry_no_trust() -> None:
    graph = SignedGraph.from_edges(np.array([0, 0]), np.array([1, 2]), weight=np.array([1.0, -1.0]))
    scores = personalized_pagerank(graph, np.array([0]), tol=1e-14).scores
    assert scores[2] == 0.0 and scores[1] > 0.0


def test_seeded_trust_is_early_terminated_and_degree_normalised() -> None:
    graph = _random_graph(500, 3000, 7)
    seeds = np.array([1, 2, 3])
    trust = seeded_trust(graph, seeds)
    assert trust.iterations == math.ceil(math.log2(500))
    walk = walk_matrix(graph, damping=0.85)
    raw = power_iterate(walk, reset_vector(graph.n, seeds), max_iter=trust.iterations, tol=0).scores
    pos = graph.weight > 0
    in_strength = np.bincount(graph.dst[pos], weights=graph.weight[pos], minlength=graph.n)
    np.testing.assert_allclose(trust.scores, raw / np.maximum(in_strength, 1.0))
    assert (trust.scores >= 0).all() and (trust.scores <= 1).all()


@pytest.mark.parametrize("blocks", [1, 3, 16])
def test_gauss_seidel_and_power_iteration_agree(blocks: int) -> None:
    graph = _random_graph(400, 2500, 11)
    walk, reset = walk_matrix(graph, damping=0.85), reset_vector(graph.n, np.array([5, 9]))
    power = power_iterate(walk, reset, tol=1e-14, max_iter=10_000)
    solved = solve_pagerank(walk, reset, tol=1e-14, max_iter=10_000, blocks=blocks)
    assert solved.converged
    assert solved.iterations <= power.iterations - (blocks > 1)  # fresh values help
    assert np.abs(solved.scores - power.scores).sum() < 1e-11


def test_reset_vector_forms() -> None:
    assert reset_vector(4, np.array([1, 1, 2])).tolist() == [0, 2 / 3, 1 / 3, 0]
    assert reset_vector(3, np.array([True, False, True])).tolist() == [0.5, 0, 0.5]
    with pytest.raises(ValueError, match="no seed"):
        reset_vector(3, np.array([], dtype=np.int64))

"""Structural features of each node of an undirected graph: how it sits in the graph, not what it
says about itself.

Anomalous accounts often differ in shape before they differ in content: a ring is a near-clique
(high clustering, dense egonet for its size), a spam hub a near-star (many neighbours who don't
know each other), a throw-away account a low-degree node hanging off a dense group. None of these
features assumes which way is suspicious; models and detectors downstream decide.
"""

from __future__ import annotations

import networkx as nx
import numpy as np
import scipy.sparse as sp

from features.neighbours import aggregate

# Rows of A are multiplied by A in blocks so that counting triangles never holds A @ A whole.
_BLOCK_ROWS = 2048

STRUCTURAL_FEATURES = (
    "log_degree",
    "clustering",
    "log_core",
    "log_triangles",
    "nbr_log_degree_mean",
    "nbr_log_degree_max",
    "nbr_log_degree_min",
    "nbr_clustering_mean",
    "log_egonet_edges",
    "log_egonet_boundary",
    "egonet_density",
    "egonet_inward_share",
)


def _binary(adj: sp.csr_matrix) -> sp.csr_matrix:
    a = sp.csr_matrix(adj)
    a = ((a + a.T) != 0).astype(np.float64).tocsr()
    a.setdiag(0.0)
    a.eliminate_zeros()
    return a


def triangles(adj: sp.csr_matrix) -> np.ndarray:
    """Triangles through each node of the undirected, unweighted version of ``adj``."""
    a = _binary(adj)
    out = np.zeros(a.shape[0])
    for lo in range(0, a.shape[0], _BLOCK_ROWS):
        rows = a[lo : lo + _BLOCK_ROWS]
        out[lo : lo + rows.shape[0]] = np.asarray((rows @ a).multiply(rows).sum(axis=1)).ravel()
    return out / 2.0


def core_numbers(adj: sp.csr_matrix) -> np.ndarray:
    """The k-core each node belongs to (largest k with the node in a subgraph of min degree k)."""
    a = _binary(adj)
    cores = nx.core_number(nx.from_scipy_sparse_array(a))
    return np.array([cores[i] for i in range(a.shape[0])], dtype=np.float64)


def structural_features(adj: sp.csr_matrix) -> dict[str, np.ndarray]:
    """{name: value per node} for ``STRUCTURAL_FEATURES``, on the undirected unweighted graph.

    Egonet = the node, its neighbours and the edges among them (OddBall, Akoglu et al. 2010);
    its boundary = edges from the egonet to the rest of the graph. Counts are log1p'd: graphs are
    heavy-tailed and detectors downstream compare distances.
    """
    a = _binary(adj)
    degree = np.asarray(a.sum(axis=1)).ravel()
    tri = triangles(a)
    with np.errstate(invalid="ignore", divide="ignore"):
        pairs = degree * (degree - 1) / 2
        clustering = np.where(pairs > 0, tri / np.maximum(pairs, 1), 0.0)
    log_degree = np.log1p(degree)
    nbr_stats = aggregate(a, log_degree, how=("mean", "max", "min"))
    nbr_clust = aggregate(a, clustering, how=("mean",))["mean"][:, 0]
    nbr_degree_sum = np.asarray(a @ degree).ravel()
    inside = degree + tri
    boundary = np.maximum(nbr_degree_sum - degree - 2 * tri, 0.0)
    possible = (degree + 1) * degree / 2
    features = {
        "log_degree": log_degree,
        "clustering": clustering,
        "log_core": np.log1p(core_numbers(a)),
        "log_triangles": np.log1p(tri),
        "nbr_log_degree_mean": nbr_stats["mean"][:, 0],
        "nbr_log_degree_max": nbr_stats["max"][:, 0],
        "nbr_log_degree_min": nbr_stats["min"][:, 0],
        "nbr_clustering_mean": nbr_clust,
        "log_egonet_edges": np.log1p(inside),
        "log_egonet_boundary": np.log1p(boundary),
        "egonet_density": np.where(possible > 0, inside / np.maximum(possible, 1), 0.0),
        "egonet_inward_share": np.where(
            inside + boundary > 0, inside / np.maximum(inside + boundary, 1), 0.0
        ),
    }
    # Isolated nodes have no neighbours to summarise: 0 (no degree) rather than NaN.
    return {name: np.nan_to_num(features[name], nan=0.0) for name in STRUCTURAL_FEATURES}

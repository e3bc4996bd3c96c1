"""What the graph-risk recipe knows about each node before it sees a label.

- ``affinity``: how unlike its neighbours a node is (local inconsistency). Normal users resemble
  the users they are connected to far more than anomalies resemble theirs (one-class homophily:
  TAM, Qiao & Pang, NeurIPS 2023; GADAM, ICLR 2024); this is the one direction the recipe takes as
  given, because it is what "anomalous in context" means;
- ``node_matrix``: the features a supervised model reads: the raw attributes, structural features,
  neighbour aggregates of the attributes, the node's residual from its neighbourhood mean, and the
  unsupervised scores.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from scipy.stats import norm, rankdata
from sklearn.decomposition import TruncatedSVD

from features.neighbours import aggregate
from features.structure import STRUCTURAL_FEATURES, structural_features

# Wide attribute sets are summarised before aggregation: neighbour max/mean of 500 sparse binary
# columns is mostly zeros and multiplies the model's width by three.
MAX_AGGREGATED = 32
# Standardised attributes are clipped: one extreme binary column should not decide a cosine alone.
CLIP = 5.0


@dataclass(frozen=True)
class NodeViews:
    """Per-node arrays, rows aligned with the graph's nodes 0..n-1."""

    raw: np.ndarray  # the attributes as given
    standard: np.ndarray  # standardised and clipped attributes
    compact: np.ndarray  # at most MAX_AGGREGATED columns summarising ``standard``
    structure: np.ndarray  # STRUCTURAL_FEATURES
    affinity: dict[str, np.ndarray]  # unlikeness to the neighbours: higher = more anomalous


def standardise(x: np.ndarray) -> np.ndarray:
    """Columns on one scale, whatever their units and tails: rank-based normal scores for
    columns with more than two values (counts and amounts are heavy-tailed, and a monotone
    re-expression of a column should not change who looks unusual), z-scores for binary ones."""
    z = np.zeros_like(x, dtype=np.float64)
    for j, column in enumerate(x.T):
        distinct = len(np.unique(column[: min(len(column), 10_000)]))
        if distinct > 2:
            z[:, j] = norm.ppf((rankdata(column) - 0.5) / len(column))
        elif distinct == 2:
            z[:, j] = (column - column.mean()) / column.std()
    return np.clip(z, -CLIP, CLIP)


def compact(z: np.ndarray, *, seed: int) -> np.ndarray:
    if z.shape[1] <= MAX_AGGREGATED:
        return z
    svd = TruncatedSVD(n_components=MAX_AGGREGATED, random_state=seed)
    return svd.fit_transform(z)


def _unit(z: np.ndarray) -> np.ndarray:
    return z / np.maximum(np.linalg.norm(z, axis=1, keepdims=True), 1e-12)


def affinity(adj: sp.csr_matrix, z: np.ndarray) -> dict[str, np.ndarray]:
    """Unlikeness of each node to its neighbours, higher = less alike (0 for isolated nodes).

    ``pairwise``: 1 - mean cosine similarity to each neighbour (TAM's local affinity, negated);
    ``to_mean``: 1 - cosine similarity to the neighbours' mean vector;
    ``distance``: Euclidean distance to the neighbours' mean, over the neighbours' own spread.
    """
    unit = _unit(z)
    stats = aggregate(adj, unit, how=("mean",))["mean"]
    pairwise = 1.0 - np.nan_to_num((unit * stats).sum(axis=1), nan=1.0)
    moments = aggregate(adj, z, how=("mean", "std"))
    mean, spread = np.nan_to_num(moments["mean"]), np.nan_to_num(moments["std"])
    to_mean = 1.0 - (unit * _unit(mean)).sum(axis=1)
    scale = np.sqrt((spread * spread).sum(axis=1)) + np.sqrt(z.shape[1]) * 0.1
    distance = np.linalg.norm(z - mean, axis=1) / scale
    isolated = np.asarray(adj.sum(axis=1)).ravel() == 0
    return {
        name: np.where(isolated, 0.0, score)
        for name, score in (("pairwise", pairwise), ("to_mean", to_mean), ("distance", distance))
    }


def node_views(adj: sp.csr_matrix, x: np.ndarray, *, seed: int) -> NodeViews:
    z = standardise(x)
    structure = structural_features(adj)
    return NodeViews(
        raw=x,
        standard=z,
        compact=compact(z, seed=seed),
        structure=np.column_stack([structure[name] for name in STRUCTURAL_FEATURES]),
        affinity=affinity(adj, z),
    )


def node_matrix(
    adj: sp.csr_matrix, views: NodeViews, *, scores: dict[str, np.ndarray]
) -> tuple[np.ndarray, list[str]]:
    """(n x m matrix, column names) for a supervised model: raw attributes, structure, neighbour
    mean/max/std of the compact attributes, residual from the neighbours' mean, and ``scores``."""
    c = views.compact
    stats = aggregate(adj, c, how=("mean", "max", "std"))
    mean = stats["mean"]
    blocks = [
        ("attr", views.raw),
        ("struct", views.structure),
        ("nbr_mean", mean),
        ("nbr_max", stats["max"]),
        ("nbr_std", stats["std"]),
        ("residual", c - np.nan_to_num(mean)),
        ("nbr2_mean", aggregate(adj, np.nan_to_num(mean), how=("mean",))["mean"]),
    ]
    names: list[str] = []
    for label, block in blocks:
        if label == "struct":
            names += list(STRUCTURAL_FEATURES)
        else:
            names += [f"{label}_{j}" for j in range(block.shape[1])]
    names += [f"score_{name}" for name in scores]
    columns = [block for _, block in blocks] + [np.column_stack(list(scores.values()))]
    return np.column_stack(columns), names

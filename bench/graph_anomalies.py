"""Synthetic attributed graphs with known anomalies: check graphs for ``vouch risk evaluate-graph``.

    python -m bench.graph_anomalies --out DIR [--seed 0] [--base ../shared/data/graphs/facebook]

The outside graph we develop on is one graph with one kind of anomaly; these make others, so the
recipe is judged on anomalies it was not shaped around. Each scenario is a folder with the same
files as the outside data (``edges.csv``: src,dst; ``features.csv``: node,f0..; ``labels.csv``:
node,label):

- ``base_injected``: the base graph (its own anomalies dropped) with the standard injection of
  DOMINANT (Ding et al., SDM 2019): structural anomalies = cliques of 15 random nodes; contextual
  anomalies = nodes whose attributes are replaced by those of the farthest of 50 random nodes;
- ``sbm_injected``: the same injection into a generated community graph with Gaussian attributes;
- ``sbm_camouflage``: fraud that hides: anomalies with mildly shifted attributes on a few columns,
  wired to random nodes across communities with ordinary degrees (heterophily, no shape);
- ``sbm_attributes``: the same shifted attributes, edges left alone: only the attributes tell;
- ``sbm_shapes``: anomalies of shape only: hubs to random strangers and small dense rings hanging
  off the graph, with attributes drawn like their community's.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import polars as pl

CLIQUE = 15
FARTHEST_OF = 50


def _write(out: Path, edges: np.ndarray, x: np.ndarray, labels: np.ndarray) -> None:
    out.mkdir(parents=True, exist_ok=True)
    lo, hi = np.minimum(edges[:, 0], edges[:, 1]), np.maximum(edges[:, 0], edges[:, 1])
    pairs = np.unique(np.column_stack([lo, hi])[lo != hi], axis=0)
    pl.DataFrame({"src": pairs[:, 0], "dst": pairs[:, 1]}).write_csv(out / "edges.csv")
    frame = pl.DataFrame(x, schema=[f"f{j}" for j in range(x.shape[1])])
    frame.insert_column(0, pl.Series("node", np.arange(len(x)))).write_csv(out / "features.csv")
    pl.DataFrame({"node": np.arange(len(x)), "label": labels.astype(np.int64)}).write_csv(
        out / "labels.csv"
    )


def inject(
    edges: np.ndarray, x: np.ndarray, *, rng: np.random.Generator, share: float = 0.03
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """DOMINANT's injection: half the anomalies in cliques, half with swapped attributes."""
    n = len(x)
    per_kind = max(CLIQUE, int(n * share / 2))
    cliques = max(1, per_kind // CLIQUE)
    order = rng.permutation(n)
    members = order[: cliques * CLIQUE].reshape(cliques, CLIQUE)
    contextual = order[cliques * CLIQUE : cliques * CLIQUE + per_kind]
    extra = [np.array([(a, b) for a in group for b in group if a < b]) for group in members]
    x = x.copy()
    for node in contextual:
        candidates = rng.choice(n, size=FARTHEST_OF, replace=False)
        far = candidates[np.argmax(np.linalg.norm(x[candidates] - x[node], axis=1))]
        x[node] = x[far]
    labels = np.zeros(n, dtype=np.int64)
    labels[members.ravel()] = 1
    labels[contextual] = 1
    return np.vstack([edges, *extra]), x, labels


def community_graph(
    n: int, *, rng: np.random.Generator, communities: int = 8, mean_degree: float = 12.0
) -> tuple[np.ndarray, np.ndarray]:
    """Planted partition with heavy-tailed degrees: (edges, community of each node)."""
    group = rng.integers(0, communities, n)
    propensity = rng.pareto(2.5, n) + 1.0
    m = int(n * mean_degree / 2)
    p = propensity / propensity.sum()
    draws = 10 * m
    src, dst = rng.choice(n, size=draws, p=p), rng.choice(n, size=draws, p=p)
    # Keep every within-community pair and ~3 % of the others: ~80 % of edges are homophilous.
    same = group[src] == group[dst]
    keep = same | (rng.random(draws) < 0.03)
    edges = np.column_stack([src[keep], dst[keep]])[:m]
    return edges, group


def gaussian_attributes(
    group: np.ndarray, *, rng: np.random.Generator, dims: int = 24
) -> np.ndarray:
    centres = rng.normal(0.0, 1.0, (group.max() + 1, dims))
    return centres[group] + rng.normal(0.0, 1.0, (len(group), dims))


def camouflage(
    n: int, *, rng: np.random.Generator, share: float = 0.04, rewire: bool = True
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    edges, group = community_graph(n, rng=rng)
    x = gaussian_attributes(group, rng=rng)
    bad = rng.choice(n, size=int(n * share), replace=False)
    shifted = rng.choice(x.shape[1], size=4, replace=False)
    x[np.ix_(bad, shifted)] += rng.choice([-1.0, 1.0], size=4) * 1.2
    # Rewire the anomalies' edges to random nodes: their degree stays, their homophily goes.
    if rewire:
        touches = np.isin(edges[:, 0], bad)
        edges[touches, 1] = rng.integers(0, n, touches.sum())
    labels = np.zeros(n, dtype=np.int64)
    labels[bad] = 1
    return edges, x, labels


def shapes(
    n: int, *, rng: np.random.Generator, share: float = 0.04
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    edges, group = community_graph(n, rng=rng)
    x = gaussian_attributes(group, rng=rng)
    bad = rng.choice(n, size=int(n * share), replace=False)
    hubs, rings = bad[: len(bad) // 3], bad[len(bad) // 3 :]
    # Drop the anomalies' own edges, then give them their shape.
    edges = edges[~(np.isin(edges[:, 0], bad) | np.isin(edges[:, 1], bad))]
    extra = [np.column_stack([np.full(60, h), rng.integers(0, n, 60)]) for h in hubs]
    for ring in np.array_split(rings, max(1, len(rings) // 6)):
        extra.append(np.array([(a, b) for a in ring for b in ring if a < b]).reshape(-1, 2))
        extra.append(np.column_stack([ring, rng.integers(0, n, len(ring))]))
    labels = np.zeros(n, dtype=np.int64)
    labels[bad] = 1
    return np.vstack([edges, *extra]), x, labels


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--nodes", type=int, default=2000, help="nodes of the generated graphs")
    parser.add_argument("--base", type=Path, help="a graph folder to inject into (optional)")
    args = parser.parse_args(argv)
    rng = np.random.default_rng(args.seed)
    if args.base is not None:
        base_edges = pl.read_csv(args.base / "edges.csv").to_numpy()
        x = pl.read_csv(args.base / "features.csv").drop("node").to_numpy().astype(np.float64)
        y = pl.read_csv(args.base / "labels.csv")["label"].to_numpy()
        keep = np.flatnonzero(y == 0)  # the base's own anomalies would be unlabelled noise
        new_id = np.full(len(y), -1)
        new_id[keep] = np.arange(len(keep))
        e = new_id[base_edges]
        e = e[(e >= 0).all(axis=1)]
        _write(args.out / "base_injected", *inject(e, x[keep], rng=rng))
    edges, group = community_graph(args.nodes, rng=rng)
    x = gaussian_attributes(group, rng=rng)
    _write(args.out / "sbm_injected", *inject(edges, x, rng=rng))
    _write(args.out / "sbm_camouflage", *camouflage(args.nodes, rng=rng))
    _write(args.out / "sbm_shapes", *shapes(args.nodes, rng=rng))
    _write(args.out / "sbm_attributes", *camouflage(args.nodes, rng=rng, rewire=False))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

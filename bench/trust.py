"""Trust propagation benchmark: ours against igraph (PRPACK) and networkx, same graph, same run.

    python -m bench.trust [--nodes 1000000 --edges 10000000 --seed 13]

Builds a synthetic signed graph (heavy-tailed out- and in-degrees, 80% of edges inside
communities, 7% negative, node ids shuffled so communities are not contiguous in memory),
then times personalised PageRank over its positive edges from the same seeds with the same
damping:
  - ours: ``features.trust_engine.propagation.personalized_pagerank``, graph build from the edge
    arrays (SignedGraph, positive-edge CSR) included, to an L1 step change below ``--tol``;
  - igraph: ``Graph.personalized_pagerank`` (PRPACK), graph build and scoring timed apart;
  - networkx: ``pagerank`` with ``personalization`` on a ``--nx-nodes`` graph from the same
    generator (same mean degree), graph build included, scaled to the full edge count.
Also times our production SybilRank-style propagation (early-terminated, degree-normalised).
Checks that ours equals igraph within 1e-6 (L1); prints figures and ratios and writes
bench/trust.json in the data dir.
"""

from __future__ import annotations

import argparse
import json
import math
import time
from collections.abc import Callable
from typing import Any

import igraph as ig
import networkx as nx
import numpy as np

from features.trust_engine.graph import SignedGraph
from features.trust_engine.propagation import personalized_pagerank, seeded_trust
from settings import get_settings


def _lookup(cumulative: np.ndarray, values: np.ndarray) -> np.ndarray:
    # Sorted keys let searchsorted walk the table once instead of missing cache on every key.
    order = np.argsort(values)
    found = np.empty(len(values), dtype=np.int64)
    found[order] = np.searchsorted(cumulative, values[order], side="right")
    return found


def _draw(weights: np.ndarray, size: int, rng: np.random.Generator) -> np.ndarray:
    cumulative = np.cumsum(weights)
    return _lookup(cumulative, rng.random(size) * cumulative[-1])


def synthetic_graph(
    nodes: int, edges: int, *, seed: int, local: float = 0.8, negative: float = 0.07
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``edges`` edges ``(src, dst, weight)``: int32 ids in 0..nodes-1, weights in [-1, 1] in
    tenths, no self-loops (repeated pairs allowed: repeat trades)."""
    rng = np.random.default_rng(seed)
    wanted, edges = edges, edges + edges // 10 + 16  # draw extra: self-loops are dropped
    # Pareto(1.2) propensities give power-law degrees with a hub of ~1% of all edges; being
    # followed is correlated with being active, as in rating and social graphs.
    activity = rng.pareto(1.2, nodes) + 1.0
    popularity = activity**0.7 * (rng.pareto(1.2, nodes) + 1.0)
    block = np.sort(rng.integers(0, max(1, nodes // 500), nodes))  # ~500 members each
    src = np.minimum(_draw(activity, edges, rng), nodes - 1)
    dst = np.minimum(_draw(popularity, edges, rng), nodes - 1)
    inside = rng.random(edges) < local
    first = np.searchsorted(block, block, side="left")
    last = np.searchsorted(block, block, side="right") - 1
    cumulative = np.cumsum(popularity)
    s = src[inside]
    low = np.where(first[s] > 0, cumulative[first[s] - 1], 0.0)
    pick = low + rng.random(len(s)) * (cumulative[last[s]] - low)
    dst[inside] = np.clip(_lookup(cumulative, pick), first[s], last[s])
    keep = src != dst
    src, dst = src[keep][:wanted], dst[keep][:wanted]
    shuffle = rng.permutation(nodes).astype(np.int32)  # ids carry no locality, like hashed UUIDs
    rating = rng.integers(1, 11, len(src)) / 10.0
    sign = np.where(rng.random(len(src)) < negative, -1.0, 1.0)
    return shuffle[src], shuffle[dst], sign * rating


def _timed(label: str, fn: Callable[[], Any]) -> tuple[float, Any]:
    print(f"  {label} ...", end="", flush=True)
    started = time.perf_counter()
    value = fn()
    seconds = time.perf_counter() - started
    print(f" {seconds:.2f} s", flush=True)
    return seconds, value


def _ours(
    src: np.ndarray,
    dst: np.ndarray,
    weight: np.ndarray,
    nodes: int,
    seeds: np.ndarray,
    *,
    damping: float,
    tol: float,
) -> np.ndarray:
    # The ids are already dense, as igraph needs them: no id mapping on either side.
    graph = SignedGraph(ids=np.arange(nodes), src=src, dst=dst, weight=weight)
    return personalized_pagerank(graph, seeds, damping=damping, tol=tol).scores


def _top_seeds(dst: np.ndarray, nodes: int, k: int) -> np.ndarray:
    # The k most endorsed nodes: a stand-in for verified users, the same for every engine.
    return np.sort(np.argsort(-np.bincount(dst, minlength=nodes), kind="stable")[:k])


def _networkx(nodes: int, edges: int, *, seed: int, seeds: int, damping: float) -> dict:
    src, dst, weight = synthetic_graph(nodes, edges, seed=seed)
    pos = weight > 0
    chosen = _top_seeds(dst[pos], nodes, seeds)
    # A DiGraph keeps one edge per pair: give it the summed weight, as CSR and igraph use.
    pair, where = np.unique(src[pos].astype(np.int64) * nodes + dst[pos], return_inverse=True)
    summed = np.bincount(where, weights=weight[pos])
    a, b = (pair // nodes).tolist(), (pair % nodes).tolist()

    def run() -> dict:
        graph = nx.DiGraph()
        graph.add_nodes_from(range(nodes))
        graph.add_weighted_edges_from(zip(a, b, summed.tolist(), strict=True))
        reset = dict.fromkeys(chosen.tolist(), 1.0)
        return nx.pagerank(graph, alpha=damping, personalization=reset, tol=1e-12, max_iter=1000)

    seconds, scores = _timed(
        f"networkx on {nodes:,} nodes, {edges:,} edges (build + pagerank)", run
    )
    ours = _ours(src, dst, weight, nodes, chosen, damping=damping, tol=1e-12)
    theirs = np.array([scores[i] for i in range(nodes)])
    return {
        "nodes": nodes,
        "edges": edges,
        "seconds": round(seconds, 2),
        "l1_vs_ours": float(np.abs(ours - theirs).sum()),
    }


def _networkx_scaled(args: argparse.Namespace) -> dict | None:
    """networkx at one or two sample sizes, extrapolated to the full edge count."""
    sizes = sorted({int(x) for x in args.nx_nodes.split(",") if x.strip() and int(x) > 0})
    if not sizes:
        return None
    runs = [
        _networkx(
            k,
            round(args.edges * k / args.nodes),
            seed=args.seed,
            seeds=max(1, round(args.seeds * k / args.nodes)),
            damping=args.damping,
        )
        for k in sizes
    ]
    big = runs[-1]
    linear = big["seconds"] * args.edges / big["edges"]
    figures = {
        "runs": runs,
        "scaled_seconds": linear,
        "scaling": "linear in edges from the largest sample (conservative)",
    }
    if len(runs) > 1:
        # Bigger graphs cost networkx more than linearly (Python objects, cache misses): the
        # exponent fitted on two samples gives a second, less flattering estimate.
        small = runs[0]
        k = math.log(big["seconds"] / small["seconds"]) / math.log(big["edges"] / small["edges"])
        figures["power_law_exponent"] = round(k, 2)
        figures["power_law_seconds"] = big["seconds"] * (args.edges / big["edges"]) ** max(k, 1.0)
    return figures


def _head_to_head(
    src: np.ndarray,
    dst: np.ndarray,
    weight: np.ndarray,
    nodes: int,
    seeds: np.ndarray,
    *,
    damping: float,
    tol: float,
    repeat: int,
) -> dict[str, Any]:
    """igraph's build once, then ``repeat`` rounds of ours (build + score) and igraph's scoring,
    alternated so that load from other jobs on the machine hits both alike; best of each."""
    pos = weight > 0
    edges = np.column_stack([src[pos], dst[pos]])
    attrs = {"weight": weight[pos]}
    build_s, graph = _timed(
        "igraph: build",
        lambda: ig.Graph(n=nodes, edges=edges, directed=True, edge_attrs=attrs),
    )
    reset = seeds.tolist()
    rounds: list[tuple[float, float]] = []
    for i in range(repeat):
        ours_s, ours = _timed(
            f"round {i + 1}/{repeat}: ours, build + personalised PageRank",
            lambda: _ours(src, dst, weight, nodes, seeds, damping=damping, tol=tol),
        )
        theirs_s, theirs = _timed(
            f"round {i + 1}/{repeat}: igraph personalized_pagerank (PRPACK)",
            lambda: np.array(
                graph.personalized_pagerank(
                    reset_vertices=reset,
                    damping=damping,
                    weights="weight",
                    implementation="prpack",
                )
            ),
        )
        rounds.append((ours_s, theirs_s))
    return {
        "ours": min(r[0] for r in rounds),
        "igraph_score": min(r[1] for r in rounds),
        "igraph_build": build_s,
        "rounds": [[round(a, 3), round(b, 3)] for a, b in rounds],
        "l1": float(np.abs(ours - theirs).sum()),
    }


def _report(figures: dict[str, Any]) -> None:
    sec = figures["seconds"]
    ours_s, score_s, build_s = sec["ours_build_and_score"], sec["igraph_score"], sec["igraph_build"]
    print(
        f"\nours (build included) {ours_s:.2f} s | igraph scoring only {score_s:.2f} s, "
        f"with build {build_s + score_s:.2f} s"
    )
    print(
        f"  igraph scoring / ours = {score_s / ours_s:.2f}x, "
        f"igraph total / ours = {(build_s + score_s) / ours_s:.2f}x"
    )
    nx_fig = figures["networkx"]
    if nx_fig is not None:
        nx_s = nx_fig["scaled_seconds"]
        measured = ", ".join(f"{r['seconds']} s at {r['nodes']:,} nodes" for r in nx_fig["runs"])
        print(
            f"  networkx: {nx_s:.0f} s scaled to {figures['edges']:,} edges "
            f"({nx_fig['scaling']}; measured {measured})"
        )
        print(f"  networkx (scaled) / ours = {nx_s / ours_s:.0f}x")
        if "power_law_seconds" in nx_fig:
            print(
                f"    (t ~ edges^{nx_fig['power_law_exponent']} on the samples would give "
                f"{nx_fig['power_law_seconds']:.0f} s)"
            )
    l1 = figures["l1_ours_vs_igraph"]
    print(f"  L1(ours - igraph) = {l1:.2e} ({'ok' if l1 <= 1e-6 else 'ABOVE'} 1e-6)")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.trust",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--nodes", type=int, default=1_000_000, help="nodes (default 1M)")
    parser.add_argument("--edges", type=int, default=10_000_000, help="edges (default 10M)")
    parser.add_argument("--seed", type=int, default=13, help="generator seed (default 13)")
    parser.add_argument("--seeds", type=int, default=1000, help="trusted seeds (default 1000)")
    parser.add_argument("--damping", type=float, default=0.85, help="damping (default 0.85)")
    parser.add_argument(
        "--tol", type=float, default=1e-9, help="our L1 step-change tolerance (default 1e-9)"
    )
    parser.add_argument(
        "--repeat", type=int, default=5, help="alternated rounds of ours and igraph (default 5)"
    )
    parser.add_argument(
        "--nx-nodes",
        default="100000,200000",
        help="networkx sample sizes, comma-separated; '' skips (default 100000,200000)",
    )
    args = parser.parse_args(argv)
    n, damping, repeat = args.nodes, args.damping, args.repeat

    print(f"graph: {n:,} nodes, {args.edges:,} edges (seed {args.seed})")
    gen_s, (src, dst, weight) = _timed(
        "generate", lambda: synthetic_graph(n, args.edges, seed=args.seed)
    )
    seeds = _top_seeds(dst[weight > 0], n, args.seeds)
    graph = SignedGraph(ids=np.arange(n), src=src, dst=dst, weight=weight)
    sybil_s, sybil = _timed(
        "ours: build + SybilRank trust (log2 n steps, degree-normalised)",
        lambda: seeded_trust(graph, seeds, damping=damping),
    )
    ids_s, _ = _timed(
        "ours: id mapping (SignedGraph.from_edges), for reference",
        lambda: SignedGraph.from_edges(src, dst, weight=weight),
    )
    duel = _head_to_head(src, dst, weight, n, seeds, damping=damping, tol=args.tol, repeat=repeat)
    ours_s, score_s, build_s, l1 = (
        duel["ours"],
        duel["igraph_score"],
        duel["igraph_build"],
        duel["l1"],
    )
    nx_fig = _networkx_scaled(args)
    nx_s = None if nx_fig is None else nx_fig["scaled_seconds"]
    figures = {
        "nodes": n,
        "edges": args.edges,
        "positive_edges": int((weight > 0).sum()),
        "seeds": len(seeds),
        "damping": damping,
        "tol": args.tol,
        "repeat": repeat,
        "generate_seconds": round(gen_s, 2),
        "seconds": {
            "ours_build_and_score": round(ours_s, 3),
            "ours_sybilrank_build_and_score": round(sybil_s, 3),
            "ours_id_mapping": round(ids_s, 3),
            "igraph_build": round(build_s, 3),
            "igraph_score": round(score_s, 3),
            "igraph_build_and_score": round(build_s + score_s, 3),
            "networkx_scaled_build_and_score": None if nx_s is None else round(nx_s, 1),
        },
        "ratio_igraph_score_over_ours": round(score_s / ours_s, 3),
        "ratio_igraph_total_over_ours": round((build_s + score_s) / ours_s, 3),
        "ratio_networkx_over_ours": None if nx_s is None else round(nx_s / ours_s, 1),
        "rounds_ours_vs_igraph_score": duel["rounds"],
        "l1_ours_vs_igraph": l1,
        "equal_within_1e-6": l1 <= 1e-6,
        "sybilrank_steps": sybil.iterations,
        "sybilrank_reached": int((sybil.scores > 0).sum()),
        "networkx": nx_fig,
    }
    _report(figures)
    out = get_settings().bench / "trust.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(figures, indent=2))
    print(f"wrote {out}")
    return 0 if l1 <= 1e-6 else 1


if __name__ == "__main__":
    raise SystemExit(main())

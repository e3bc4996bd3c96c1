"""`vouch trust score` end to end on a 3M-edge CSV, against a CSV + igraph PageRank peer.

    python -m bench.trust_csv [--nodes 300000 --edges 3000000 --seed 13 --repeat 3]

The CSV (``src,dst,rating,timestamp``, UUID ids, ratings -10..10, no header) is built once from
``bench.trust.synthetic_graph`` and kept under the data dir. Each side runs as its own process,
timed from start to exit, all of them alternated ``--repeat`` times so other load hits each
alike:

  - ours: ``vouch trust score --edges CSV --out OUT`` (read, id mapping, seeds, propagation,
    REV2, evidence, every column written);
  - two peers, ``python -m bench.trust_csv --peer KIND CSV OUT``: polars reads the CSV, the ids
    are mapped (``fast``: a polars categorical, as ours; ``dataframe``: igraph's documented
    ``Graph.DataFrame`` loader), igraph builds the graph, PRPACK PageRank runs over the
    positive ratings (weighted) and ``node_id,pagerank`` is written.

Prints each, the ratios (goal ours / peer <= 1.0) and, as its last line, one JSON object.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
import uuid
from pathlib import Path

import numpy as np
import polars as pl

PEERS = ("fast", "dataframe")  # see ``peer``


def write_edges(path: Path, *, nodes: int, edges: int, seed: int) -> None:
    from bench.trust import synthetic_graph

    src, dst, weight = synthetic_graph(nodes, edges, seed=seed)
    rng = np.random.default_rng(seed + 1)
    raw = rng.integers(0, 2**63, size=(nodes, 2), dtype=np.int64).astype(np.uint64)
    names = np.array([str(uuid.UUID(int=(int(a) << 64) | int(b), version=4)) for a, b in raw])
    stamps = 1.6e9 + rng.integers(0, 365 * 86_400, len(src))
    path.parent.mkdir(parents=True, exist_ok=True)
    pl.DataFrame(
        {
            "src": names[src],
            "dst": names[dst],
            "rating": np.round(weight * 10).astype(np.int64),
            "timestamp": stamps,
        }
    ).write_csv(path, include_header=False)


def peer(edges: Path, out: Path, *, kind: str) -> None:
    """CSV + igraph PageRank over the positive ratings (weighted), scores written by name.

    ``dataframe``: igraph's own ``Graph.DataFrame`` maps the names, the documented way to load
    a named edge list; ``fast``: the names mapped as ours are (a polars categorical, then the
    codes renumbered in sorted order) and the graph built from the code arrays."""
    import igraph as ig

    frame = pl.read_csv(edges, has_header=False, new_columns=["src", "dst", "rating", "ts"])
    positive = frame.filter(pl.col("rating") > 0).select("src", "dst", "rating")
    if kind == "dataframe":
        graph = ig.Graph.DataFrame(positive.to_pandas(), directed=True, use_vids=False)
        rank = graph.pagerank(weights="rating", implementation="prpack")
        pl.DataFrame({"node_id": graph.vs["name"], "pagerank": rank}).write_csv(out)
        return
    table = pl.Categories.random()
    coded = pl.concat([frame["src"], frame["dst"]]).cast(pl.Categorical(table))
    names = table.to_series()
    codes = coded.to_physical().to_numpy()
    m, keep = frame.height, (frame["rating"] > 0).to_numpy()
    pairs = np.column_stack([codes[:m][keep], codes[m:][keep]])
    weight = {"weight": positive["rating"].to_numpy()}
    graph = ig.Graph(n=len(names), edges=pairs, directed=True, edge_attrs=weight)
    rank = graph.pagerank(weights="weight", implementation="prpack")
    pl.DataFrame({"node_id": names, "pagerank": rank}).sort("node_id").write_csv(out)


def _run(command: list[str]) -> float:
    started = time.perf_counter()
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - started


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.trust_csv",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--nodes", type=int, default=300_000)
    parser.add_argument("--edges", type=int, default=3_000_000)
    parser.add_argument("--seed", type=int, default=13)
    parser.add_argument("--repeat", type=int, default=3, help="alternated rounds (default 3)")
    parser.add_argument("--peer", nargs=3, metavar=("KIND", "CSV", "OUT"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.peer:
        kind, edges, out = args.peer
        peer(Path(edges), Path(out), kind=kind)
        return 0
    # Imported here, not at the top: the peer processes run this module and should not pay
    # for our settings (pydantic) at start.
    from settings import get_settings

    folder = get_settings().bench
    csv = folder / f"trust_edges_{args.edges}_{args.nodes}_{args.seed}.csv"
    if not csv.exists():
        print(f"writing {csv} ...", file=sys.stderr, flush=True)
        write_edges(csv, nodes=args.nodes, edges=args.edges, seed=args.seed)
    vouch = str(Path(sys.executable).parent / "vouch")
    ours_cmd = [vouch, "trust", "score", "--edges", str(csv)]
    ours_cmd += ["--out", str(folder / "trust_csv_ours.csv")]
    peers = {
        kind: [
            *(sys.executable, "-m", "bench.trust_csv", "--peer", kind, str(csv)),
            f"{folder}/trust_csv_{kind}.csv",
        ]
        for kind in PEERS
    }
    rounds: list[dict[str, float]] = []
    for i in range(args.repeat):
        times = {"ours": _run(ours_cmd)} | {k: _run(c) for k, c in peers.items()}
        rounds.append(times)
        said = ", ".join(f"{k} {v:.2f} s" for k, v in times.items())
        print(f"round {i + 1}/{args.repeat}: {said}", flush=True)
    median = {k: statistics.median(r[k] for r in rounds) for k in rounds[0]}
    ours = median["ours"]
    print(f"vouch trust score on {args.edges:,} edges: median {ours:.2f} s")
    for kind in PEERS:
        print(
            f"  CSV + igraph PageRank ({kind}) {median[kind]:.2f} s -> ours / peer = "
            f"{ours / median[kind]:.2f} (goal <= 1.0)"
        )
    result = {
        "edges": args.edges,
        "nodes": args.nodes,
        "seconds_median": {k: round(v, 2) for k, v in median.items()},
        "rounds": [{k: round(v, 2) for k, v in r.items()} for r in rounds],
        "ratio_ours_over_peer": {k: round(ours / median[k], 3) for k in PEERS},
        "goal_ratio": 1.0,
    }
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""`vouch trust score` and `vouch trust evaluate`: the trust engine on any signed edge list."""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from features.trust_engine.score import TrustConfig


def _config(args: argparse.Namespace) -> TrustConfig:
    # Imported here, not at the top: `vouch --help` should not pay for scipy and sklearn.
    from features.trust_engine.score import TrustConfig

    return TrustConfig(
        damping=args.damping,
        window_days=None if args.window_days <= 0 else args.window_days,
        reach_weight=args.reach_weight,
    )


def _score(args: argparse.Namespace) -> int:
    import numpy as np
    import polars as pl

    from features.trust_engine.io import read_signed_edges
    from features.trust_engine.score import score_graph

    started = time.perf_counter()
    edges = read_signed_edges(args.edges)
    graph, seeds = edges.graph, None
    if args.seeds is not None:
        wanted = pl.read_csv(args.seeds, has_header=False, infer_schema_length=10_000)[:, 0]
        external = wanted.to_numpy().astype(graph.ids.dtype)
        seeds = graph.index_of(external)
        if (seeds < 0).any():
            print(
                f"vouch trust score: {int((seeds < 0).sum())} seeds are not in the graph",
                file=sys.stderr,
            )
        seeds = np.unique(seeds[seeds >= 0])
    scores = score_graph(graph, seeds=seeds, config=_config(args))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    scores.write_csv(args.out)
    print(
        json.dumps(
            {
                "nodes": graph.n,
                "edges": graph.m,
                "rating_scale": edges.rating_scale,
                "self_loops_dropped": edges.self_loops_dropped,
                "seeds": int(scores["seed"].sum()),
                "out": str(args.out),
                "seconds": round(time.perf_counter() - started, 3),
            }
        )
    )
    return 0


def _evaluate(args: argparse.Namespace) -> int:
    from features.trust_engine.evaluate import PROTOCOLS, evaluate
    from features.trust_engine.io import read_labels, read_signed_edges

    graph = read_signed_edges(args.edges).graph
    labels = read_labels(args.labels)
    config = _config(args)
    asked = PROTOCOLS if args.protocol == "both" else (args.protocol,)
    results = {p: evaluate(graph, labels, protocol=p, config=config) for p in asked}
    line = results[asked[0]] if len(asked) == 1 else {"protocol": "both", **results}
    print(json.dumps(line))
    return 0


def _tuning(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--damping",
        type=float,
        default=0.85,
        help="propagation: probability of following a trust edge rather than restarting "
        "at a seed (default 0.85)",
    )
    parser.add_argument(
        "--window-days",
        type=float,
        default=30.0,
        help="evidence about a node within this many days counts about once; 0 counts every "
        "rating in full (default 30)",
    )
    parser.add_argument(
        "--reach-weight",
        type=float,
        default=0.25,
        help="share of the combined trust taken from the seeds' propagated trust (default 0.25)",
    )


def register(sub: argparse._SubParsersAction) -> None:
    """trust score, trust evaluate."""
    trust = sub.add_parser(
        "trust",
        help="trust graph engine: score or evaluate a signed edge list",
        description="Score any signed edge list (CSV without header: src,dst,rating[,timestamp], "
        "any signed rating range, divided by the largest absolute rating), or evaluate the "
        "scores against fraud labels.",
    )
    commands = trust.add_subparsers(dest="trust_command", required=True, metavar="COMMAND")

    score = commands.add_parser(
        "score",
        help="write every node's trust scores as CSV",
        description="Write one CSV row per node: node_id, trust (combined, [0, 1], higher is "
        "more trustworthy) and the component scores (propagated trust, REV2 fairness and "
        "goodness, evidence). Prints a JSON summary line.",
    )
    score.add_argument(
        "--edges",
        type=Path,
        required=True,
        help="signed edge list: src,dst,rating[,timestamp], no header",
    )
    score.add_argument("--out", type=Path, required=True, help="CSV to write (with a header)")
    score.add_argument(
        "--seeds",
        type=Path,
        help="trusted node ids, one per line, no header (default: long-standing, well-rated, "
        "widely endorsed nodes chosen without labels)",
    )
    _tuning(score)
    score.set_defaults(func=_score)

    ev = commands.add_parser(
        "evaluate",
        help="ROC AUC and average precision of 1 - trust against fraud labels",
        description="Score the graph and measure how 1 - trust ranks the labelled fraudsters "
        "(-1) above benign users (+1). Protocol 'full' sees every edge; 'inductive' hides "
        "every rating into a labelled user first. Prints one JSON line.",
    )
    ev.add_argument(
        "--edges",
        type=Path,
        required=True,
        help="signed edge list: src,dst,rating[,timestamp], no header",
    )
    ev.add_argument(
        "--labels",
        type=Path,
        required=True,
        help="node_id,label with +1 benign / -1 fraudulent, no header",
    )
    ev.add_argument(
        "--protocol",
        choices=["full", "inductive", "both"],
        default="both",
        help="which edges the scores may see (default both)",
    )
    _tuning(ev)
    ev.set_defaults(func=_evaluate)

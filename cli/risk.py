"""`vouch risk evaluate-graph`: the risk recipe on an outside attributed graph, labels hidden."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path


def _rate(text: str) -> float:
    try:
        rate = float(text)
    except ValueError as e:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from e
    if not 0.0 <= rate < 1.0:
        raise argparse.ArgumentTypeError(f"label rate must lie in [0, 1), not {rate}")
    return rate


def _evaluate_graph(args: argparse.Namespace) -> int:
    # Imported here, not at the top: `vouch --help` should not pay for LightGBM and sklearn.
    from models.graph_risk import evaluate_graph, read_graph

    for path in (args.edges, args.features, args.labels):
        if not path.exists():
            print(f"vouch risk evaluate-graph: no such file: {path}", file=sys.stderr)
            return 2
    try:
        graph = read_graph(args.edges, args.features, labels=args.labels)
    except ValueError as e:
        print(f"vouch risk evaluate-graph: {e}", file=sys.stderr)
        return 2
    progress = None if args.quiet else (lambda line: print(line, file=sys.stderr, flush=True))
    if graph.ignored_edges and progress:
        progress(f"ignoring {graph.ignored_edges} edges to nodes without features")
    result = evaluate_graph(
        graph.src,
        graph.dst,
        x=graph.x,
        labels=graph.labels,
        label_rate=args.label_rate,
        seed=args.seed,
        progress=progress,
    )
    print(json.dumps({"graph": str(args.edges.parent), **result}))
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    """risk evaluate-graph."""
    risk = sub.add_parser(
        "risk",
        help="risk recipe: judge it on outside attributed graphs",
        description="The platform's risk recipe (neighbour aggregation, unsupervised anomaly "
        "scores, positive-unlabelled learning from the few labels at hand) on outside data.",
    )
    commands = risk.add_subparsers(dest="risk_command", required=True, metavar="COMMAND")
    ev = commands.add_parser(
        "evaluate-graph",
        help="score every node of an attributed graph with labels partly hidden; one JSON line",
        description="Sees the labels of a random --label-rate share of the nodes (stratified, at "
        "least one positive when the rate is above 0; 0 = unsupervised), scores every node, and "
        "measures on the nodes whose labels it did not see. Peers in the same run and split: "
        "IsolationForest on the raw attributes, and (rate > 0) LightGBM on the raw attributes "
        "trained on the seen labels, both with library defaults. Progress goes to stderr; the "
        "last stdout line is one JSON object: roc_auc, average_precision, isolation_forest and "
        "lightgbm_raw (each {roc_auc, average_precision}), unsupervised (the recipe's "
        "label-free part), label_rate, seed, nodes, seen_labels, seen_positives, "
        "supervised_share, seconds.",
    )
    ev.add_argument(
        "--edges",
        type=Path,
        required=True,
        metavar="CSV",
        help="undirected edges, columns src,dst (node ids as in --features)",
    )
    ev.add_argument(
        "--features", type=Path, required=True, metavar="CSV", help="columns node,f0,..,fk"
    )
    ev.add_argument(
        "--labels", type=Path, required=True, metavar="CSV", help="columns node,label (1 = anomaly)"
    )
    ev.add_argument(
        "--label-rate",
        type=_rate,
        default=0.0,
        metavar="R",
        help="share of the nodes whose labels the recipe may see (default 0: unsupervised)",
    )
    ev.add_argument("--seed", type=int, default=0, help="seeds the label sample and the models")
    ev.add_argument("--quiet", action="store_true", help="no progress lines on stderr")
    ev.set_defaults(func=_evaluate_graph)

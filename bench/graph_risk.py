"""`vouch risk evaluate-graph` over several seeds and label rates: mean and spread per graph.

    python -m bench.graph_risk DIR [DIR ...] [--seeds 5] [--rates 0,0.05]

Each DIR holds edges.csv, features.csv and labels.csv (the outside data's layout, or what
``bench.graph_anomalies`` writes). Each (graph, rate, seed) is one run of the same code the CLI
runs; stderr gets one line per graph and rate, stdout as its last line one JSON object:
{graph: {rate: {ours|isolation_forest|lightgbm_raw: {roc_auc|average_precision: [mean, sd]}}}}.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

from models.graph_risk import evaluate_graph, read_graph


def _summary(runs: list[dict], name: str) -> dict[str, list[float]]:
    out = {}
    for metric in ("roc_auc", "average_precision"):
        values = [run[metric] if name == "ours" else run[name][metric] for run in runs]
        out[metric] = [round(float(np.mean(values)), 4), round(float(np.std(values)), 4)]
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("graphs", type=Path, nargs="+")
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--rates", default="0,0.05")
    args = parser.parse_args(argv)
    rates = [float(r) for r in args.rates.split(",")]
    report: dict[str, dict[str, dict]] = {}
    for folder in args.graphs:
        graph = read_graph(
            folder / "edges.csv", folder / "features.csv", labels=folder / "labels.csv"
        )
        for rate in rates:
            runs = [
                evaluate_graph(
                    graph.src, graph.dst, x=graph.x, labels=graph.labels, label_rate=rate, seed=seed
                )
                for seed in range(args.seeds)
            ]
            names = ["ours", "unsupervised", "isolation_forest"]
            names += ["lightgbm_raw"] if rate > 0 else []
            entry = {name: _summary(runs, name) for name in names}
            entry["seen_positives"] = float(np.mean([run["seen_positives"] for run in runs]))
            entry["seconds"] = float(np.mean([run["seconds"] for run in runs]))
            report.setdefault(folder.name, {})[str(rate)] = entry
            line = "  ".join(
                f"{name} {entry[name]['roc_auc'][0]:.3f}±{entry[name]['roc_auc'][1]:.3f}"
                f" ({entry[name]['average_precision'][0]:.3f}±"
                f"{entry[name]['average_precision'][1]:.3f})"
                for name in names
            )
            print(f"{folder.name:16s} R={rate:<5} {line}", file=sys.stderr, flush=True)
    print(json.dumps(report))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

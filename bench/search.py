"""The listing search ranker on held-out days, against relevance-only and newest-first.

    python -m bench.search [--users 20000 --days 21 --train-days 8 --valid-days 2 --test-days 4]

Simulates and ingests a platform (kept under $VOUCH_DATA_DIR/bench/search; ``--reuse`` keeps a
lake simulated earlier with the same settings) in which buyers search before they buy
(``simulator.search``), computes a platform trust snapshot at the start of every day of the
windows (each from the events before it), builds the labelled searches of the train,
validation and test windows (the last days; the days before are history only), fits
``models.search.SearchRanker`` and scores the test searches: NDCG@10 of the model, relevance,
newest-first and random, on orders placed from the search, over the shuffled pages of the
exploration share (no ordering favoured by position bias) and over all test searches. The
ground truth is read for one figure only: the share of top-3 slots going to fraudulent
sellers' listings. Fraud risk is not a feature here (no risk model is trained in this bench:
the column is unknown, NaN). Prints figures and ratios, then one JSON line.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from datetime import UTC, datetime, timedelta

import polars as pl

from bench.ranking import add_window_arguments, history_days, simulated_lake, top_features
from features.feed.inputs import trust_snapshots
from features.search import SEARCH_FEATURES
from models.feed.evaluate import Windows
from models.search import SearchRanker, fit_and_evaluate
from settings import Settings, get_settings
from simulator import SimConfig


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.search", description=__doc__)
    add_window_arguments(parser, seed=29)
    parser.add_argument(
        "--without-position",
        action="store_true",
        help="leave the position a listing was shown at out of the ranker's features",
    )
    args = parser.parse_args(argv)
    history = history_days(parser, args)
    started = time.perf_counter()
    root = get_settings().bench / "search"
    config = SimConfig(users=args.users, days=args.days, seed=args.seed)
    lake, simulated = simulated_lake(root, config, reuse=args.reuse, progress=False)

    begin = datetime.combine(config.start, datetime.min.time(), UTC)
    first = begin + timedelta(days=history)
    days = range(args.train_days + args.valid_days + args.test_days + 1)
    t = time.perf_counter()
    times = [first + timedelta(days=d) for d in days]
    kept = root / "trust_snapshots.parquet"  # beside the lake it was computed from
    if args.reuse and simulated == 0.0 and kept.exists():
        trust = pl.read_parquet(kept)
        if sorted(trust.get_column("snapshot_at").unique().to_list()) != times:
            trust = trust_snapshots(lake.events_dir, times)
    else:
        trust = trust_snapshots(lake.events_dir, times)
    trust.write_parquet(kept)
    trust_seconds = time.perf_counter() - t
    windows = Windows.by_days(
        first, train_days=args.train_days, valid_days=args.valid_days, test_days=args.test_days
    )
    t = time.perf_counter()
    ranker, report, _ = fit_and_evaluate(
        lake.events_dir,
        windows=windows,
        trust=trust,
        truth=Settings(data_dir=root).truth,
        ranker=SearchRanker(features=SEARCH_FEATURES) if args.without_position else SearchRanker(),
    )
    fit_seconds = time.perf_counter() - t
    report["model"]["top_features"] = top_features(ranker)
    report["platform"] = {"users": args.users, "days": args.days, "seed": args.seed}
    report["seconds"] = {
        "simulate_and_ingest": round(simulated, 1),
        "trust": round(trust_seconds, 1),
        "groups_fit_evaluate": round(fit_seconds, 1),
        "total": round(time.perf_counter() - started, 1),
    }
    parts = [("all test searches", report)]
    if "shuffled_searches" in report:
        parts.insert(
            0,
            (
                "shuffled test searches (exploration: the fair comparison)",
                report["shuffled_searches"],
            ),
        )
    for title, part in parts:
        groups = part["groups"]
        print(f"{title}: {groups['evaluated']} with an order (of {groups['total']})")
        for name, value in part["ndcg_at_10"].items():
            print(f"  NDCG@10 {name:<22} {value:.4f}")
        print(
            f"  model / relevance {part['ratio_model_to_relevance']:.3f}, "
            f"model / newest {part['ratio_model_to_newest']:.3f}"
        )
    for name, value in report.get("fraud_share_top3", {}).items():
        print(f"top-3 slots held by fraudulent sellers (ground truth), {name:<22} {value:.2%}")
    print(json.dumps(report))
    return 0


if __name__ == "__main__":
    sys.exit(main())

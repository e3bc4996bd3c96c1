"""The feed ranker on a later window, against chronological, popularity and the oracle.

    python -m bench.feed [--users 20000 --days 21 --train-days 8 --valid-days 2 --test-days 4]

Simulates and ingests a platform (kept under $VOUCH_DATA_DIR/bench/feed; ``--reuse`` keeps a
lake simulated earlier with the same settings), computes platform trust snapshots every
``--trust-every`` days (each from the events before it: point in time), builds the labelled
feed groups of the train, validation and test windows (the last days of the run; the days
before the train window are history only), fits ``models.feed.FeedRanker`` and scores the test
window with ``models.feed.evaluate``. The simulator's ground truth gives the oracle and the
honest-viewer breakdown, nothing else. Prints one JSON line.

The default size (20,000 users, 21 days: 7 days of history, 8 to train, 2 to validate, 4 to
test) runs in about three minutes on the 2-core development machine, half of it the 21 daily
trust snapshots.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from datetime import UTC, datetime, timedelta

from bench.ranking import add_window_arguments, history_days, simulated_lake, top_features
from features.feed.inputs import trust_snapshots
from models.feed import FeedRanker, Windows, train_and_evaluate
from settings import Settings, get_settings
from simulator import SimConfig


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.feed", description=__doc__)
    add_window_arguments(parser, seed=23)
    parser.add_argument("--trust-every", type=int, default=1, help="days between snapshots")
    args = parser.parse_args(argv)
    history = history_days(parser, args)
    started = time.perf_counter()
    root = get_settings().bench / "feed"
    config = SimConfig(users=args.users, days=args.days, seed=args.seed)
    lake, simulated = simulated_lake(root, config, reuse=args.reuse, progress=True)

    begin = datetime.combine(config.start, datetime.min.time(), UTC)
    snapshot_times = [begin + timedelta(days=d) for d in range(0, args.days, args.trust_every)]
    t = time.perf_counter()
    trust = trust_snapshots(lake.events_dir, snapshot_times)
    trust_seconds = time.perf_counter() - t
    print(f"trust: {len(snapshot_times)} snapshots in {trust_seconds:.1f} s", file=sys.stderr)

    windows = Windows.by_days(
        begin + timedelta(days=history),
        train_days=args.train_days,
        valid_days=args.valid_days,
        test_days=args.test_days,
    )
    ranker, report = train_and_evaluate(
        lake.events_dir,
        truth=Settings(data_dir=root).truth,
        windows=windows,
        trust=trust,
        ranker=FeedRanker(),
    )
    report["model"]["top_features"] = top_features(ranker)
    report["platform"] = {
        "users": args.users,
        "days": args.days,
        "seed": args.seed,
        "history_days": history,
        "trust_snapshots": len(snapshot_times),
    }
    report["seconds"] = {
        "simulate_and_ingest": round(simulated, 1),
        "trust": round(trust_seconds, 1),
        **report["seconds"],
        "total": round(time.perf_counter() - started, 1),
    }
    print(json.dumps(report))
    return 0


if __name__ == "__main__":
    sys.exit(main())

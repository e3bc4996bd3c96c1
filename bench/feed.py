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
import shutil
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from features.feed.inputs import trust_snapshots
from models.feed import FeedRanker, Windows, train_and_evaluate
from pipelines.ingest import Lake, ingest_days, landing_partitions
from settings import Settings, get_settings
from simulator import SimConfig, simulate


def _platform(root: Path, config: SimConfig, *, reuse: bool) -> tuple[Lake, float]:
    """The simulated, ingested lake, and the seconds it took (0 when reused)."""
    stamp = root / "config.json"
    wanted = json.dumps({"users": config.users, "days": config.days, "seed": config.seed})
    layout = Settings(data_dir=root)
    lake = Lake(layout.lake)
    if reuse and stamp.exists() and stamp.read_text() == wanted:
        return lake, 0.0
    started = time.perf_counter()
    shutil.rmtree(root, ignore_errors=True)
    simulate(config, out=layout.landing, truth_out=layout.truth, progress=True)
    ingest_days(
        layout.landing, sorted(landing_partitions(layout.landing)), lake=lake, progress=True
    )
    stamp.write_text(wanted)
    return lake, time.perf_counter() - started


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.feed", description=__doc__)
    parser.add_argument("--users", type=int, default=20_000)
    parser.add_argument("--days", type=int, default=21)
    parser.add_argument("--seed", type=int, default=23)
    parser.add_argument("--train-days", type=int, default=8)
    parser.add_argument("--valid-days", type=int, default=2)
    parser.add_argument("--test-days", type=int, default=4)
    parser.add_argument("--trust-every", type=int, default=1, help="days between snapshots")
    parser.add_argument("--reuse", action="store_true", help="keep an earlier simulated lake")
    args = parser.parse_args(argv)
    history = args.days - args.train_days - args.valid_days - args.test_days
    if history < 1:
        parser.error("--days must leave at least one day of history before the train window")
    started = time.perf_counter()
    root = get_settings().bench / "feed"
    config = SimConfig(users=args.users, days=args.days, seed=args.seed)
    lake, simulated = _platform(root, config, reuse=args.reuse)

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
    top = sorted(zip(ranker.feature_importances_, ranker.features, strict=True), reverse=True)
    report["model"]["top_features"] = [name for _, name in top[:8]]
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

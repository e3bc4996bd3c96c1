"""What ``bench.feed`` and ``bench.search`` share: the simulated lake they train on, kept for
``--reuse``, the windows' arguments, and the ranker's top features for the report."""

from __future__ import annotations

import argparse
import json
import shutil
import time
from pathlib import Path

from models.lambdarank.ranker import LambdaRanker
from pipelines.ingest import Lake, ingest_days, landing_partitions
from settings import Settings
from simulator import SimConfig, simulate


def simulated_lake(
    root: Path, config: SimConfig, *, reuse: bool, progress: bool
) -> tuple[Lake, float]:
    """The simulated, ingested lake under ``root``, and the seconds it took (0 when reused: a
    lake simulated earlier with the same users, days and seed)."""
    stamp = root / "config.json"
    wanted = json.dumps({"users": config.users, "days": config.days, "seed": config.seed})
    layout = Settings(data_dir=root)
    lake = Lake(layout.lake)
    if reuse and stamp.exists() and stamp.read_text() == wanted:
        return lake, 0.0
    started = time.perf_counter()
    shutil.rmtree(root, ignore_errors=True)
    simulate(config, out=layout.landing, truth_out=layout.truth, progress=progress)
    ingest_days(
        layout.landing, sorted(landing_partitions(layout.landing)), lake=lake, progress=progress
    )
    stamp.write_text(wanted)
    return lake, time.perf_counter() - started


def add_window_arguments(parser: argparse.ArgumentParser, *, seed: int) -> None:
    """The platform's size and seed, the train, validation and test days, and ``--reuse``."""
    parser.add_argument("--users", type=int, default=20_000)
    parser.add_argument("--days", type=int, default=21)
    parser.add_argument("--seed", type=int, default=seed)
    parser.add_argument("--train-days", type=int, default=8)
    parser.add_argument("--valid-days", type=int, default=2)
    parser.add_argument("--test-days", type=int, default=4)
    parser.add_argument("--reuse", action="store_true", help="keep an earlier simulated lake")


def history_days(parser: argparse.ArgumentParser, args: argparse.Namespace) -> int:
    """The days before the train window (history only); exits with a usage error if none."""
    history = int(args.days - args.train_days - args.valid_days - args.test_days)
    if history < 1:
        parser.error("--days must leave at least one day of history before the train window")
    return history


def top_features(ranker: LambdaRanker, n: int = 8) -> list[str]:
    """The ``n`` features of most total gain, most first."""
    top = sorted(zip(ranker.feature_importances_, ranker.features, strict=True), reverse=True)
    return [name for _, name in top[:n]]

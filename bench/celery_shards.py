"""A sharded scoring day on Dagster's Celery executor: 1 worker against 2, same day, same run.

    python -m bench.celery_shards --users 6000 --days 20 [--shards 4]

Simulates a platform, ingests it and computes the day's features and fraud model in-process
(set-up, not measured), then scores the day three ways, each from no shard on disk:

- ``in_process``: the day's ``user_scores`` in this process, which scores every shard itself
  (the single-process peer);
- ``celery_1`` / ``celery_2``: one ``score_shards`` run per shard, all launched at once (each a
  ``dagster job execute`` process), their steps executed by 1 or 2 Celery workers
  (``celery -A pipelines.celery_app worker``, concurrency 1 each) through RabbitMQ; the wall time
  runs from the launch to the last run's end, and the gather that follows is timed apart.

Every way's ``user_scores`` must equal the in-process one. Needs RabbitMQ
(``VOUCH_CELERY_BROKER_URL`` or pyamqp://guest:guest@127.0.0.1:5672//) and PostgreSQL for the
Dagster instance the workers share (a database of its own, dropped afterwards). The last line
is one JSON object.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import time
from collections.abc import Mapping
from datetime import date, timedelta
from pathlib import Path

from bench.celery_cluster import (
    BROKER,
    celery_workers,
    run_shards,
    scratch_database,
    step_times,
    worker_env,
)


def _prepare(root: Path, *, users: int, days: int, seed: int) -> tuple[date, dict[str, str]]:
    """Simulate, ingest, and compute the last day's features and fraud model (not measured)."""
    import dagster

    from pipelines.assets.models import fraud_model
    from pipelines.definitions import FEATURES
    from pipelines.ingest import Lake, ingest_days, landing_partitions
    from pipelines.resources import Storage
    from settings import Settings
    from simulator import SimConfig, simulate

    config = SimConfig(users=users, days=days, seed=seed)
    landing = root / "landing"
    settings = Settings(data_dir=root / "data", landing_dir=landing)
    simulate(config, out=landing, truth_out=settings.truth, progress=False)
    ingest_days(landing, sorted(landing_partitions(landing)), lake=Lake(settings.lake))
    day = config.start + timedelta(days=days)
    storage = Storage(settings)
    for assets in (FEATURES, [fraud_model]):
        done = dagster.materialize(
            assets, resources={"storage": storage}, partition_key=day.isoformat()
        )
        if not done.success:
            raise RuntimeError("set-up failed")
    return day, {"VOUCH_DATA_DIR": str(settings.data_dir), "VOUCH_LANDING_DIR": str(landing)}


def _gathered(day: date, env: Mapping[str, str]) -> tuple[object, int, float]:
    """Materialise the day's ``user_scores`` in this process: its frame, the shards it scored
    itself, and the seconds it took."""
    import dagster

    from pipelines.assets.models import user_scores_asset
    from pipelines.resources import Storage
    from settings import Settings

    settings = Settings(
        data_dir=Path(env["VOUCH_DATA_DIR"]), landing_dir=Path(env["VOUCH_LANDING_DIR"])
    )
    storage = Storage(settings)
    start = time.perf_counter()
    result = dagster.materialize(
        [user_scores_asset], resources={"storage": storage}, partition_key=day.isoformat()
    )
    seconds = time.perf_counter() - start
    if not result.success:
        raise RuntimeError("user_scores failed")
    (event,) = result.get_asset_materialization_events()
    here = event.step_materialization_data.materialization.metadata["shards_scored_here"].value
    return storage.features.read("user_scores", day), int(here), seconds


def _clear_shards(env: Mapping[str, str]) -> None:
    import shutil

    from pipelines.assets.scoring import SHARD_TABLE
    from settings import Settings

    shutil.rmtree(
        Settings(data_dir=Path(env["VOUCH_DATA_DIR"])).features / SHARD_TABLE, ignore_errors=True
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--users", type=int, default=6000)
    parser.add_argument("--days", type=int, default=20)
    parser.add_argument("--shards", type=int, default=4)
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--out", type=Path, default=None, help="work dir (default: a temp dir)")
    parser.add_argument(
        "--reuse", action="store_true", help="keep the platform already set up under --out"
    )
    args = parser.parse_args(argv)
    import tempfile
    import warnings

    warnings.filterwarnings("ignore")
    from simulator import SimConfig

    # Read when the definitions load: fixed before anything imports pipelines.
    os.environ["VOUCH_SCORE_SHARDS"] = str(args.shards)
    os.environ["VOUCH_PARTITIONS_START"] = SimConfig(users=1, days=1).start.isoformat()
    broker = os.environ.get("VOUCH_CELERY_BROKER_URL") or BROKER
    root = args.out or Path(tempfile.mkdtemp(prefix="celery_shards_"))
    t0 = time.perf_counter()
    from settings import Settings

    if args.reuse and (Settings(data_dir=root / "data").features / "fraud_features").exists():
        day = SimConfig(users=args.users, days=args.days).start + timedelta(days=args.days)
        settings_env = {
            "VOUCH_DATA_DIR": str(root / "data"),
            "VOUCH_LANDING_DIR": str(root / "landing"),
        }
    else:
        day, settings_env = _prepare(root, users=args.users, days=args.days, seed=args.seed)
    settings_env["VOUCH_SCORE_SHARDS"] = str(args.shards)
    settings_env["VOUCH_PARTITIONS_START"] = os.environ["VOUCH_PARTITIONS_START"]
    print(f"set-up: {args.users} users x {args.days} days in {time.perf_counter() - t0:.0f} s")
    print(f"load before: {os.getloadavg()[0]:.2f} (1-min) on {os.cpu_count()} cores")

    _clear_shards(settings_env)
    baseline, here, single_s = _gathered(day, settings_env)
    assert here == args.shards
    figures: dict[str, object] = {
        "users": baseline.height,  # type: ignore[attr-defined]
        "shards": args.shards,
        "in_process_s": round(single_s, 2),
    }
    print(f"in_process: {single_s:.1f} s, scored {args.shards} shards in one process")
    with scratch_database() as url:
        env = worker_env(settings_env, postgres_url=url, broker=broker)
        for workers in (1, 2):
            _clear_shards(settings_env)
            logs = root / "logs" / f"w{workers}"
            shutil.rmtree(logs, ignore_errors=True)  # step_times reads every log in it
            with celery_workers(workers, env=env, logs=logs):
                runs_s = run_shards(day, shards=args.shards, env=env, logs=root / "logs")
            steps_s, span_s = step_times(logs)
            frame, here, gather_s = _gathered(day, settings_env)
            same = bool(frame.equals(baseline))  # type: ignore[attr-defined]
            assert here == 0 and same, f"celery_{workers}: scored here {here}, equal {same}"
            figures[f"celery_{workers}_runs_s"] = round(runs_s, 2)
            figures[f"celery_{workers}_gather_s"] = round(gather_s, 2)
            figures[f"celery_{workers}_steps_s"] = round(steps_s, 2)
            figures[f"celery_{workers}_steps_span_s"] = round(span_s, 2)
            print(
                f"celery_{workers}: {args.shards} shard runs on {workers} worker(s) in "
                f"{runs_s:.1f} s (steps {steps_s:.1f} s summed, first received to last done "
                f"{span_s:.1f} s), gather {gather_s:.1f} s, equal to in_process: {same}"
            )
    figures["speedup_2_vs_1"] = round(
        float(figures["celery_1_runs_s"]) / float(figures["celery_2_runs_s"]),
        3,  # type: ignore[arg-type]
    )
    figures["steps_span_2_vs_1"] = round(
        float(figures["celery_1_steps_span_s"]) / float(figures["celery_2_steps_span_s"]),  # type: ignore[arg-type]
        3,
    )
    figures["load_1min_after"] = round(os.getloadavg()[0], 2)
    print(
        f"2 workers vs 1: {figures['speedup_2_vs_1']}x wall, "
        f"{figures['steps_span_2_vs_1']}x the workers' span"
    )
    print(json.dumps(figures))
    return 0


if __name__ == "__main__":
    sys.exit(main())

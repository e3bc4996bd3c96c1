"""A backfill of landing days on the production instance: 1 vs 2 runs at a time.

    python -m bench.dagster_backfill [--users 3000 --days 8] [--postgres postgresql://...]

Simulates a landing once (kept under $VOUCH_DATA_DIR/bench/dagster_backfill), creates a throwaway
PostgreSQL database for Dagster's run/event/schedule storage (dropped at the end), then ingests
every landing day as its own run of the `ingest` job (lake_events, one partition per run: what
the asset's multi-run backfill policy asks the daemon for), into an empty lake, twice: with 1 and
with 2 runs at a time. Each run starts in a fresh process and its step in another (the jobs'
multiprocess executor), as the daemon's run launcher does. Prints the wall time of each pass and
the speed-up; the last line is one JSON object.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import time
import uuid
from concurrent.futures import ProcessPoolExecutor
from datetime import date
from multiprocessing import get_context
from pathlib import Path

import psycopg
from dagster import AssetKey, DagsterInstance, JobDefinition, execute_job, reconstructable

from pipelines.definitions import defs, ingest_job
from pipelines.ingest import Lake
from pipelines.instance import POSTGRES_ENV, dagster_home
from settings import Settings, get_settings
from simulator import SimConfig, simulate

TAG = "bench.dagster_backfill"


def ingest_job_def() -> JobDefinition:
    """Module-level, so a run's processes can rebuild the job by name."""
    return defs.resolve_job_def(ingest_job.name)


def _run_day(day: str, home: str, backfill: str) -> tuple[str, bool, float]:
    started = time.perf_counter()
    with DagsterInstance.from_config(home) as instance:
        result = execute_job(
            reconstructable(ingest_job_def),
            instance=instance,
            tags={"dagster/partition": day, "vouch/command": TAG, "vouch/backfill": backfill},
            asset_selection=[AssetKey("lake_events")],
        )
    return day, result.success, time.perf_counter() - started


def _landing(root: Path, config: SimConfig) -> list[str]:
    landing, stamp = root / "landing", root / "landing.json"
    wanted = {"users": config.users, "days": config.days, "seed": config.seed}
    if not (stamp.exists() and json.loads(stamp.read_text()) == wanted):
        shutil.rmtree(root, ignore_errors=True)
        simulate(config, out=landing, truth_out=Settings(data_dir=root).truth, progress=True)
        stamp.write_text(json.dumps(wanted))
    return sorted(p.name for p in landing.iterdir() if p.is_dir())


def _pass(days: list[str], *, workers: int, root: Path) -> dict[str, object]:
    data = root / f"data_{workers}"
    shutil.rmtree(data, ignore_errors=True)
    os.environ["VOUCH_DATA_DIR"] = str(data)  # the runs' processes read their settings from here
    settings = Settings()
    home = str(dagster_home(settings))
    backfill = f"{workers}-{uuid.uuid4().hex[:8]}"
    # A fresh process per run (max_tasks_per_child=1), as the run launcher starts one per run.
    pool = ProcessPoolExecutor(workers, mp_context=get_context("spawn"), max_tasks_per_child=1)
    started = time.perf_counter()
    with pool:
        outcomes = list(pool.map(_run_day, days, [home] * len(days), [backfill] * len(days)))
    seconds = time.perf_counter() - started
    failed = [day for day, ok, _ in outcomes if not ok]
    if failed:
        raise SystemExit(f"runs failed for {failed}")
    ingested = sum(int(log["ingested"]) for log in Lake(settings.lake).read_logs())
    print(f"  {workers} at a time: {seconds:.1f} s for {len(days)} runs", flush=True)
    return {"seconds": round(seconds, 1), "ingested": ingested}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--users", type=int, default=3000)
    parser.add_argument("--days", type=int, default=8)
    parser.add_argument("--postgres", default="postgresql://postgres@127.0.0.1:5432/test")
    args = parser.parse_args(argv)

    root = get_settings().bench / "dagster_backfill"
    config = SimConfig(users=args.users, days=args.days, seed=11, start=date(2026, 8, 1))
    days = _landing(root, config)
    os.environ["VOUCH_LANDING_DIR"] = str(root / "landing")
    database = f"dagster_bench_{uuid.uuid4().hex[:8]}"
    admin = psycopg.connect(args.postgres, autocommit=True, connect_timeout=5)
    admin.execute(f'CREATE DATABASE "{database}"')
    base = args.postgres.rsplit("/", 1)[0]
    os.environ[POSTGRES_ENV] = f"{base}/{database}"
    try:
        print(f"Backfill of {len(days)} landing days, storage on PostgreSQL ({database}):")
        one = _pass(days, workers=1, root=root)
        two = _pass(days, workers=2, root=root)
    finally:
        admin.execute(f'DROP DATABASE "{database}" WITH (FORCE)')
        admin.close()
    if one["ingested"] != two["ingested"]:
        raise SystemExit(f"the passes disagree: {one} vs {two}")
    figures = {
        "bench": "dagster_backfill",
        "users": args.users,
        "landing_days": len(days),
        "events_ingested": one["ingested"],
        "storage": "postgres",
        "executor": "multiprocess",
        "seconds_1_at_a_time": one["seconds"],
        "seconds_2_at_a_time": two["seconds"],
        "speedup": round(float(one["seconds"]) / float(two["seconds"]), 2),  # type: ignore[arg-type]
        "cores": os.cpu_count(),
        "load_average_1m": round(os.getloadavg()[0], 1),
    }
    print(json.dumps(figures))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

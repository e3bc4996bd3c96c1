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
import re
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import date, datetime, timedelta
from pathlib import Path

BROKER = "pyamqp://guest:guest@127.0.0.1:5672//"
PG_ADMIN = "postgresql://postgres@127.0.0.1:5432/test"
BIN = Path(sys.executable).parent
READY_S = 90.0  # a worker imports Dagster and the project before it says "ready"


@contextmanager
def celery_workers(
    count: int, *, env: Mapping[str, str], logs: Path, broker: str = BROKER
) -> Iterator[list[str]]:
    """``count`` Celery workers (concurrency 1 each) on the ``dagster`` queue, as subprocesses;
    yields their names once all say ready, and stops them (SIGTERM, then SIGKILL) afterwards."""
    from pipelines.executors import QUEUE

    logs.mkdir(parents=True, exist_ok=True)
    tag = uuid.uuid4().hex[:6]
    names = [f"shards{i}-{tag}@vouch" for i in range(count)]
    procs = []
    try:
        for name in names:
            log = logs / f"{name.split('@')[0]}.log"
            procs.append(
                subprocess.Popen(
                    [
                        str(BIN / "celery"),
                        "-A",
                        "pipelines.celery_app",
                        "-b",
                        broker,
                        "worker",
                        "-Q",
                        QUEUE,
                        "-c",
                        "1",
                        "-n",
                        name,
                        "-l",
                        "INFO",
                        "--without-gossip",
                        "--without-mingle",
                        "--without-heartbeat",
                    ],
                    env=dict(env),
                    stdout=log.open("wb"),
                    stderr=subprocess.STDOUT,
                    start_new_session=True,  # its pool children stop with it
                )
            )
        deadline = time.monotonic() + READY_S
        for name, proc in zip(names, procs, strict=True):
            log = logs / f"{name.split('@')[0]}.log"
            while " ready." not in log.read_text(errors="replace"):
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"worker {name} did not start:\n{log.read_text()[-3000:]}")
                time.sleep(0.2)
        yield names
    finally:
        for proc in procs:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
        for proc in procs:
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()


def run_shards(day: date, *, shards: int, env: Mapping[str, str], logs: Path) -> float:
    """Launch one ``score_shards`` run per shard of ``day`` at once (``dagster job execute``;
    the definitions' executor is Celery when ``VOUCH_CELERY_BROKER_URL`` is set in ``env``) and
    wait for all; returns the wall seconds. Raises if a run failed."""
    from pipelines.definitions import SCORE_SHARDS_JOB
    from pipelines.partitions import DAY_SHARDS, shard_key

    logs.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    procs = []
    for shard in range(shards):
        tags = DAY_SHARDS.get_tags_for_partition_key(shard_key(day, shard))
        log = logs / f"run-{day}-{shard}.log"
        procs.append(
            (
                log,
                subprocess.Popen(
                    [
                        str(BIN / "dagster"),
                        "job",
                        "execute",
                        "-m",
                        "pipelines.definitions",
                        "-a",
                        "defs",
                        "-j",
                        SCORE_SHARDS_JOB,
                        "--tags",
                        json.dumps({**tags, "vouch/command": "bench.celery_shards"}),
                    ],
                    env=dict(env),
                    stdout=log.open("wb"),
                    stderr=subprocess.STDOUT,
                ),
            )
        )
    failed = [log for log, proc in procs if proc.wait() != 0]
    if failed:
        raise RuntimeError(f"shard runs failed: {failed[0].read_text()[-3000:]}")
    return time.perf_counter() - start


@contextmanager
def scratch_database(admin: str = PG_ADMIN) -> Iterator[str]:
    """A PostgreSQL database of its own for a Dagster instance, dropped afterwards."""
    import psycopg

    name = f"dagster_shards_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(admin, autocommit=True, connect_timeout=2) as con:
        con.execute(f'CREATE DATABASE "{name}"')
        try:
            yield admin.rsplit("/", 1)[0] + f"/{name}"
        finally:
            con.execute(f'DROP DATABASE "{name}" WITH (FORCE)')


def worker_env(
    settings_env: Mapping[str, str], *, postgres_url: str, broker: str
) -> dict[str, str]:
    """The environment of the workers and the runs: the same settings, instance and broker."""
    from pipelines.instance import POSTGRES_ENV, dagster_home, psycopg2_url
    from settings import Settings

    env = {**os.environ, **settings_env}
    env[POSTGRES_ENV] = psycopg2_url(postgres_url)
    env["VOUCH_CELERY_BROKER_URL"] = broker
    before = os.environ.get(POSTGRES_ENV)
    settings = Settings(data_dir=Path(env["VOUCH_DATA_DIR"]), dagster_postgres_url=postgres_url)
    env["DAGSTER_HOME"] = str(dagster_home(settings))
    # dagster_home exports the URL for this process's own runs: not wanted here, only in env.
    if before is None:
        os.environ.pop(POSTGRES_ENV, None)
    else:
        os.environ[POSTGRES_ENV] = before
    env.setdefault("DAGSTER_DISABLE_TELEMETRY", "true")
    return env


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
    simulate(config, out=landing, truth_out=root / "data" / "ground_truth", progress=False)
    settings = Settings(data_dir=root / "data", landing_dir=landing)
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


_LINE = re.compile(
    r"^\[(?P<at>[\d\- :,]+): INFO/[^\]]+\] Task execute_plan\[[^\]]+\] "
    r"(?P<what>received|succeeded in (?P<s>[\d.]+)s)"
)


def step_times(logs: Path) -> tuple[float, float]:
    """From the workers' logs: the seconds their steps took, summed, and the span from the
    first step received to the last one done (the workers' part of the wall time)."""
    received, done, total = [], [], 0.0
    for log in logs.glob("*.log"):
        for line in log.read_text(errors="replace").splitlines():
            if m := _LINE.match(line):
                at = datetime.strptime(m["at"], "%Y-%m-%d %H:%M:%S,%f")
                if m["s"] is None:
                    received.append(at)
                else:
                    done.append(at)
                    total += float(m["s"])
    span = (max(done) - min(received)).total_seconds() if done and received else float("nan")
    return total, span


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
    if args.reuse and (root / "data" / "features" / "fraud_features").exists():
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

"""Celery workers, shard runs and a scratch Dagster database, for bench.celery_shards and
tests/pipelines/test_celery_shards.py: real processes, torn down after."""

from __future__ import annotations

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
from datetime import date, datetime
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
                        str(BIN.joinpath("dagster")),  # the executable (not the data folder)
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

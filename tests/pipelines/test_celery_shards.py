"""A sharded day on Dagster's Celery executor: two real workers through the real RabbitMQ, the
runs recorded in a PostgreSQL Dagster instance they share; the scores equal the single-process
run's."""

from __future__ import annotations

import os
import shutil
import socket
import warnings
from datetime import date
from pathlib import Path

import dagster
import polars as pl
import pytest
from dagster import DagsterInstance, DagsterRunStatus, RunsFilter

from bench.celery_cluster import BROKER, celery_workers, run_shards, worker_env
from pipelines.assets.models import user_scores_asset
from pipelines.assets.scoring import SHARD_TABLE
from pipelines.definitions import SCORE_SHARDS_JOB
from pipelines.instance import POSTGRES_ENV
from pipelines.partitions import SHARDS
from pipelines.resources import Storage
from tests.conftest import require_server
from tests.pipelines.conftest import TrainedDay

pytestmark = pytest.mark.integration
warnings.filterwarnings("ignore", module="dagster")


def _rabbitmq() -> None:
    try:
        socket.create_connection(("127.0.0.1", 5672), timeout=2).close()
    except OSError as exc:
        require_server("RabbitMQ", False, f"127.0.0.1:5672: {exc}")


def _user_scores(storage: Storage, day: str) -> tuple[pl.DataFrame, int]:
    result = dagster.materialize(
        [user_scores_asset], resources={"storage": storage}, partition_key=day
    )
    assert result.success
    (event,) = result.get_asset_materialization_events()
    here = event.step_materialization_data.materialization.metadata["shards_scored_here"].value
    return storage.features.read("user_scores", date.fromisoformat(day)), int(here)


def test_two_celery_workers_score_a_sharded_day_as_one_process(
    trained_day: TrainedDay, postgres_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _rabbitmq()
    storage = Storage(trained_day.settings())
    day, shards = trained_day.day, len(SHARDS.get_partition_keys())
    table = storage.features.table(SHARD_TABLE)
    shutil.rmtree(table, ignore_errors=True)
    single, here = _user_scores(storage, day.isoformat())  # every shard scored in this process
    assert here == shards
    shutil.rmtree(table, ignore_errors=True)

    settings_env = {
        "VOUCH_DATA_DIR": str(trained_day.data),
        "VOUCH_LANDING_DIR": str(trained_day.landing),
        "VOUCH_PARTITIONS_START": os.environ["VOUCH_PARTITIONS_START"],
        "VOUCH_SCORE_SHARDS": str(shards),
    }
    env = worker_env(settings_env, postgres_url=postgres_url, broker=BROKER)
    with celery_workers(2, env=env, logs=tmp_path / "logs") as workers:
        run_shards(day, shards=shards, env=env, logs=tmp_path / "logs")

    # Each shard was a run of its own in the shared instance, its step executed by a worker.
    monkeypatch.setenv(POSTGRES_ENV, env[POSTGRES_ENV])  # the instance's yaml names the variable
    with DagsterInstance.from_config(env["DAGSTER_HOME"]) as instance:
        runs = instance.get_runs(filters=RunsFilter(job_name=SCORE_SHARDS_JOB))
        assert len(runs) == shards
        assert {r.status for r in runs} == {DagsterRunStatus.SUCCESS}
        assert {r.tags["dagster/partition/shard"] for r in runs} == set(map(str, range(shards)))
        ran_on = {
            str(entry.dagster_event.engine_event_data.metadata["Celery worker"].value)
            for run in runs
            for entry in instance.all_logs(run.run_id)
            if entry.dagster_event is not None
            and entry.dagster_event.is_engine_event
            and "Celery worker" in entry.dagster_event.engine_event_data.metadata
        }
        assert ran_on == set(workers)  # both workers took shards
    for shard in range(shards):
        assert storage.features.read_shard(SHARD_TABLE, day, shard=shard, shards=shards)

    sharded, here = _user_scores(storage, day.isoformat())
    assert here == 0  # the gather only concatenated what the workers wrote
    assert sharded.equals(single)

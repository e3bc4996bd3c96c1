"""The production instance: run, event-log and schedule storage on the real PostgreSQL, with the
jobs' multiprocess executor (each step in a process of its own)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import yaml
from dagster import (
    AssetKey,
    DagsterInstance,
    Definitions,
    JobDefinition,
    RunsFilter,
    ScheduleDefinition,
    execute_job,
    reconstructable,
)
from dagster._core.scheduler.instigation import InstigatorStatus
from dagster._core.test_utils import in_process_test_workspace
from dagster._core.types.loadable_target_origin import LoadableTargetOrigin
from dagster_postgres import PostgresEventLogStorage, PostgresRunStorage, PostgresScheduleStorage

from pipelines.definitions import defs, ingest_job
from pipelines.instance import POSTGRES_ENV, dagster_home, instance_yaml
from settings import Settings
from tests.conftest import wire

DAYS = ("2026-08-09", "2026-08-10")

pytestmark = pytest.mark.integration


def ingest_job_def() -> JobDefinition:
    """Module-level, so the multiprocess executor's children can rebuild the job by name."""
    return defs.resolve_job_def(ingest_job.name)


# A code location with one schedule, for the schedule storage (the project's own schedules are
# not needed to exercise it).
nightly = ScheduleDefinition(name="nightly_ingest", job=ingest_job, cron_schedule="0 1 * * *")
scheduled = Definitions(
    jobs=[ingest_job], schedules=[nightly], assets=defs.assets, resources=defs.resources
)


def test_instance_yaml_adds_postgres_storage_only_when_configured(tmp_path: Path) -> None:
    assert "storage" not in yaml.safe_load(instance_yaml(Settings(data_dir=tmp_path)))
    with_pg = instance_yaml(Settings(data_dir=tmp_path, dagster_postgres_url="postgresql://x/y"))
    storage = yaml.safe_load(with_pg)["storage"]
    assert storage == {"postgres": {"postgres_url": {"env": POSTGRES_ENV}}}
    assert "postgresql://x/y" not in with_pg  # the secret stays in the environment


def test_runs_events_and_schedules_live_in_postgres(
    tmp_path: Path, postgres_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    landing = tmp_path / "landing"
    for day in DAYS:
        (landing / day).mkdir(parents=True)
        (landing / day / "a.ndjson").write_bytes(b"\n".join([wire(), wire()]) + b"\n")
    # The step processes build their settings from the environment.
    monkeypatch.setenv("VOUCH_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("VOUCH_LANDING_DIR", str(landing))
    monkeypatch.setenv(POSTGRES_ENV, postgres_url)
    settings = Settings()
    home = dagster_home(settings)

    with DagsterInstance.from_config(str(home)) as instance:
        assert isinstance(instance.run_storage, PostgresRunStorage)
        assert isinstance(instance.event_log_storage, PostgresEventLogStorage)
        assert isinstance(instance.schedule_storage, PostgresScheduleStorage)

        # One run over both days (a run's process start dominates a test this small).
        tags = {"vouch/command": "test"}
        result = execute_job(
            reconstructable(ingest_job_def),
            instance=instance,
            tags={
                **tags,
                "dagster/asset_partition_range_start": DAYS[0],
                "dagster/asset_partition_range_end": DAYS[-1],
            },
            asset_selection=[AssetKey("lake_events")],
        )
        assert result.success
        # Multiprocess: the step ran (and logged) in a child process, not in this one.
        step_pids = {
            r.dagster_event.pid
            for r in instance.all_logs(result.run_id)
            if r.dagster_event is not None and r.dagster_event.is_step_success
        }
        assert step_pids and os.getpid() not in step_pids
        assert [r.run_id for r in instance.get_runs(filters=RunsFilter(tags=tags))] == [
            result.run_id
        ]
        assert instance.get_materialized_partitions(AssetKey("lake_events")) == set(DAYS)

        origin = LoadableTargetOrigin(module_name=__name__, attribute="scheduled")
        with in_process_test_workspace(instance, origin) as workspace:
            (location,) = workspace.code_locations
            repo = next(iter(location.get_repositories().values()))
            instance.start_schedule(repo.get_schedule("nightly_ingest"))
        (state,) = instance.all_instigator_state()
        assert state.name == "nightly_ingest" and state.status == InstigatorStatus.RUNNING

    # A second instance on the same database sees all of it: nothing was kept in the process.
    with DagsterInstance.from_config(str(home)) as again:
        assert again.get_run_by_id(result.run_id) is not None
        assert [s.name for s in again.all_instigator_state()] == ["nightly_ingest"]

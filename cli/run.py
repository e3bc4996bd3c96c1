"""What the CLI's Dagster commands share: run one of the named jobs (pipelines/definitions.py)
in-process against the shared instance, so `make ui` lists the run under the job's name with the
command that started it (tag ``vouch/command``), and summarise what it materialised."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from typing import Any

from settings import Settings

COMMAND_TAG = "vouch/command"


def run_job(
    job: Any,
    *,
    settings: Settings,
    command: str,
    log_level: str,
    assets: Sequence[Any] = (),
    partition_key: str | None = None,
    tags: Mapping[str, str] | None = None,
    progress: bool = False,
) -> Any:
    """Run ``job`` (a job of ``pipelines.definitions``; ``assets``: a subset of its assets)
    in this process, with progress bars on the terminal when ``progress``; never raises on a
    failed run."""
    from cli.steps import with_step_progress
    from pipelines.definitions import defs
    from pipelines.instance import local_instance
    from pipelines.resources import Storage

    resolved = defs.resolve_job_def(job.name)
    if assets:  # subset first: a subset built with our resources conflicts with the job's own
        resolved = resolved.get_subset(asset_selection={a.key for a in assets})
    loggers: dict[str, Any] = {"console": {"config": {"log_level": log_level}}}
    bar = None
    if progress:
        resolved, bar = with_step_progress(resolved, label=job.name)
        loggers["progress"] = {}
    try:
        return resolved.execute_in_process(
            instance=local_instance(settings),
            resources={"storage": Storage(settings, progress=progress)},
            partition_key=partition_key,
            tags={COMMAND_TAG: command, **(tags or {})},
            raise_on_error=False,
            run_config={"loggers": loggers},
        )
    finally:
        if bar is not None:
            bar.finish()


def materialize_day(
    job: Any,
    *,
    day: date,
    settings: Settings,
    command: str,
    log_level: str,
    assets: Sequence[Any] = (),
    progress: bool = False,
) -> Any:
    """Run ``job`` (or ``assets`` of it) for the snapshot partition ``day``."""
    return run_job(
        job,
        settings=settings,
        command=command,
        log_level=log_level,
        assets=assets,
        partition_key=day.isoformat(),
        progress=progress,
    )


def materialized(result: Any, *, skip: tuple[str, ...] = ()) -> dict[str, dict[str, Any]]:
    """Asset name -> its metadata values (keys starting with ``skip`` left out)."""
    out: dict[str, dict[str, Any]] = {}
    for event in result.get_asset_materialization_events():
        meta = event.step_materialization_data.materialization.metadata
        out[event.asset_key.to_user_string()] = {
            k: v.value for k, v in meta.items() if not (skip and k.startswith(skip))
        }
    return out


def latest_day(settings: Settings, table: str) -> date | None:
    """The latest snapshot day of a feature-store table, if any."""
    from pipelines.resources import Storage

    days = Storage(settings).features.days(table)
    return days[-1] if days else None

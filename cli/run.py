"""What the CLI's Dagster commands share: run assets for one snapshot day in-process against
the shared instance (so `make ui` shows the run), and summarise what they materialised."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

from settings import Settings


def materialize_day(
    assets: Sequence[Any], *, day: date, settings: Settings, log_level: str, progress: bool = False
) -> Any:
    """Materialise ``assets`` for the snapshot partition ``day``; never raises on failure."""
    import dagster

    from pipelines.instance import local_instance
    from pipelines.resources import Storage

    storage = Storage(settings, progress=progress)
    return dagster.materialize(
        list(assets),
        instance=local_instance(settings.dagster_home),
        resources={"storage": storage},
        partition_key=day.isoformat(),
        raise_on_error=False,
        run_config={"loggers": {"console": {"config": {"log_level": log_level}}}},
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

"""One step of ``bench.scale`` in a process of its own, so its parent can time it and read its
peak RSS from ``os.wait4`` (the kernel's figure for exactly this process).

    python -m bench.scale_step simulate --users N --days D --seed S
    python -m bench.scale_step ingest
    python -m bench.scale_step trust_graph[+trust_scores...] --day YYYY-MM-DD

The data dir is ``$VOUCH_DATA_DIR``. ``ingest`` is the ``ingest`` job over every landing day in
one run (lake_events, then warehouse_views), as ``vouch ingest`` runs it; any other step
materialises the named assets of the ``daily`` job (``vouch features/models/publish`` run the
same assets, grouped by job) for the snapshot partition ``--day``, with their checks. The last
line printed is one JSON object: ``{"success": ..., "assets": {asset: its metadata}}``.
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import date
from typing import Any

from settings import get_settings


def _simulate(args: argparse.Namespace) -> dict[str, Any]:
    from simulator import SimConfig, simulate

    settings = get_settings()
    config = SimConfig(users=args.users, days=args.days, seed=args.seed)
    summary = simulate(config, out=settings.landing, truth_out=settings.truth, progress=False)
    return {"success": True, "assets": {"simulate": {"events": summary.events}}}


def _run(job_name: str, *, assets: list[str], partition: str | None, tags: dict[str, str]) -> Any:
    from dagster import AssetKey

    from pipelines.definitions import defs
    from pipelines.instance import local_instance
    from pipelines.resources import Storage

    settings = get_settings()
    job = defs.resolve_job_def(job_name)
    if assets:
        job = job.get_subset(asset_selection={AssetKey(a) for a in assets})
    return job.execute_in_process(
        instance=local_instance(settings),
        resources={"storage": Storage(settings)},
        partition_key=partition,
        tags={"vouch/command": "bench.scale", **tags},
        raise_on_error=False,
        run_config={"loggers": {"console": {"config": {"log_level": "WARNING"}}}},
    )


def _metadata(result: Any) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for event in result.get_asset_materialization_events():
        meta = event.step_materialization_data.materialization.metadata
        values = {k: v.value for k, v in meta.items()}
        out[event.asset_key.to_user_string()] = {
            k: v for k, v in values.items() if isinstance(v, int | float | str | bool)
        }
    return out


def _ingest() -> dict[str, Any]:
    from pipelines.ingest import landing_partitions

    days = sorted(landing_partitions(get_settings().landing))
    result = _run(
        "ingest",
        assets=[],
        partition=None,
        tags={
            "dagster/asset_partition_range_start": days[0].isoformat(),
            "dagster/asset_partition_range_end": days[-1].isoformat(),
        },
    )
    return {"success": result.success, "assets": _metadata(result)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.scale_step", description=__doc__)
    parser.add_argument("step", help="simulate, ingest, or asset names joined by '+'")
    parser.add_argument("--users", type=int, default=300)
    parser.add_argument("--days", type=int, default=4)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--day", type=date.fromisoformat, help="snapshot partition (assets)")
    args = parser.parse_args(argv)
    if args.step == "simulate":
        out = _simulate(args)
    elif args.step == "ingest":
        out = _ingest()
    else:
        if args.day is None:
            parser.error("--day is required for assets")
        result = _run("daily", assets=args.step.split("+"), partition=args.day.isoformat(), tags={})
        out = {"success": result.success, "assets": _metadata(result)}
    print(json.dumps(out, default=str))
    return 0 if out["success"] else 1


if __name__ == "__main__":
    sys.exit(main())

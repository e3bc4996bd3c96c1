"""`vouch simulate`, `vouch ingest`, `vouch report`: the platform, the lake, what is in it."""

from __future__ import annotations

import argparse
import json
import sys
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from settings import Settings


def _simulate(args: argparse.Namespace) -> int:
    from settings import get_settings
    from simulator import SimConfig, simulate

    settings = get_settings()
    if args.via_api:
        return _simulate_via_api(args, settings=settings)
    config = SimConfig(
        users=args.users,
        days=args.days,
        seed=args.seed,
        start=args.start,
        faults=args.faults,
        hard=args.hard,
    )
    out = args.out or settings.landing
    summary = simulate(
        config, out=out, truth_out=args.truth_out or settings.truth, progress=not args.quiet
    )
    print(
        json.dumps(
            {
                "events": summary.events,
                "lines": summary.lines,
                "out": str(out),
                "files": len(summary.files),
                "faults": summary.faults_by_kind,
            }
        )
    )
    return 0


def _simulate_via_api(args: argparse.Namespace, *, settings: Settings) -> int:
    import httpx2 as httpx

    from simulator.via_api import sql_inbox
    from simulator.via_api_run import run_scenario

    # Codes only reach the API's dev message table: read it where the API keeps it by default.
    url = args.inbox_db or settings.database_url
    if url is None and settings.core_database.exists():
        url = f"sqlite:///{settings.core_database}"
    with httpx.Client(base_url=args.via_api, timeout=30.0) as client:
        _, summary = run_scenario(
            client, users=args.users, seed=args.seed, inbox=sql_inbox(url) if url else None
        )
    print(json.dumps({**summary, "inbox": bool(url)}))
    return 0


def _ingest(args: argparse.Namespace) -> int:
    from cli.run import run_job
    from pipelines.definitions import ingest_job
    from pipelines.ingest import Lake, landing_partitions
    from pipelines.partitions import LANDING_DAYS
    from settings import get_settings

    settings = get_settings()
    landing = (args.landing or settings.landing).resolve()
    if not landing.is_dir():
        print(f"vouch ingest: no landing directory at {landing}", file=sys.stderr)
        return 2
    days = sorted(landing_partitions(landing))
    first = LANDING_DAYS.start.date()
    if days and days[0] < first:
        print(
            f"vouch ingest: Dagster's partitions start at {first}; found landing day {days[0]} "
            "(set VOUCH_PARTITIONS_START, or run again: the start follows the landing)",
            file=sys.stderr,
        )
        return 2
    totals = {"read": 0, "ingested": 0, "duplicates": 0, "quarantined": 0}
    if days:
        landed = settings.model_copy(update={"landing_dir": landing})
        result = run_job(
            ingest_job,
            settings=landed,
            command="vouch ingest",
            log_level=args.log_level,
            progress=not args.quiet,
            tags={
                "dagster/asset_partition_range_start": days[0].isoformat(),
                "dagster/asset_partition_range_end": days[-1].isoformat(),
            },
        )
        for log in Lake(landed.lake).read_logs():
            if log["run_id"] == result.run_id:
                for key in totals:
                    totals[key] += log[key]
        if not result.success:
            print(json.dumps(totals))
            print(f"vouch ingest: run {result.run_id} failed (see `make ui`)", file=sys.stderr)
            return 1
    print(json.dumps(totals))
    return 0


def _report(args: argparse.Namespace) -> int:
    from pipelines.ingest import Lake
    from pipelines.ingest.summary import lake_summary, plot_summary
    from settings import get_settings

    settings = get_settings()
    if not settings.warehouse.exists():
        print("vouch report: no warehouse yet; run `vouch ingest` first", file=sys.stderr)
        return 2
    summary = lake_summary(settings.warehouse)
    total = sum(n for _, n in summary["by_type"])
    print(f"\nEvents in the lake: {total:,}  ({settings.lake}/events)\n")
    print(f"  {'event type':<26}{'events':>12}")
    for name, n in summary["by_type"]:
        print(f"  {name:<26}{n:>12,}")
    print(f"\n  {'day':<12}{'events':>12}{'active users':>14}")
    for day, n, actors in summary["by_day"][-args.days :]:
        print(f"  {day!s:<12}{n:>12,}{actors:>14,}")
    quarantined = sum(n for *_, n in summary["quarantine"])
    print(f"\nQuarantined lines: {quarantined:,}  ({Lake(settings.lake).quarantine_dir})\n")
    for reason, field, n in summary["quarantine"]:
        print(f"  {reason:<28}{field:<26}{n:>8,}")
    picture = plot_summary(summary, settings.reports / "lake.png")
    print(f"\nPicture: {picture}")
    print(
        f"\nNext: DuckDB views in {settings.warehouse} (events, quarantine, one per event type),"
        "\n      `make ui` for the Dagster UI on http://127.0.0.1:3000, notebooks/ for exploration."
    )
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    """simulate, ingest, report."""
    sim = sub.add_parser(
        "simulate",
        help="simulate a platform: NDJSON landing + ground truth",
        description="Write a simulated platform's events as NDJSON landing files.",
    )
    sim.add_argument("--users", type=int, default=3000, help="number of users (default 3000)")
    sim.add_argument("--days", type=int, default=21, help="days simulated (default 21)")
    sim.add_argument("--seed", type=int, default=7, help="random seed; same seed, same bytes")
    sim.add_argument(
        "--start",
        type=date.fromisoformat,
        default=date(2026, 8, 1),
        help="first simulated day, UTC (default 2026-08-01)",
    )
    sim.add_argument(
        "--faults",
        type=float,
        default=0.0,
        help="share of lines corrupted in transit, e.g. 0.001 (default 0)",
    )
    sim.add_argument(
        "--hard",
        action="store_true",
        help="adversarial fraud that hides: accounts aged weeks before acting, own devices and "
        "residential IPs, an ordinary life beside the fraud, slower and smaller money moves "
        "(default: off; without it a seed gives the same bytes as always)",
    )
    sim.add_argument("--out", type=Path, help="landing directory (default $VOUCH_DATA_DIR/landing)")
    sim.add_argument(
        "--truth-out",
        type=Path,
        help="ground-truth directory (default $VOUCH_DATA_DIR/ground_truth)",
    )
    sim.add_argument("--quiet", action="store_true", help="no progress bar")
    sim.add_argument(
        "--via-api",
        metavar="URL",
        help="instead: drive a small scenario (--users normal users plus a ring) through the "
        "core API at URL; prints a JSON summary",
    )
    sim.add_argument(
        "--inbox-db",
        metavar="URL",
        help="with --via-api: the API's database, read for verification codes "
        "(default VOUCH_DATABASE_URL or the core database under $VOUCH_DATA_DIR)",
    )
    sim.set_defaults(func=_simulate)

    ing = sub.add_parser(
        "ingest",
        help="landing NDJSON -> Parquet lake (runs the Dagster assets)",
        description="Validate, deduplicate and store landing files in the lake; "
        "prints {read, ingested, duplicates, quarantined} as one JSON line.",
    )
    ing.add_argument(
        "--landing", type=Path, help="landing directory (default $VOUCH_DATA_DIR/landing)"
    )
    ing.add_argument("--quiet", action="store_true", help="no progress bars")
    ing.add_argument("--log-level", default="WARNING", help="Dagster's console log level")
    ing.set_defaults(func=_ingest)

    rep = sub.add_parser(
        "report",
        help="what is in the lake: events by type and day, quarantine",
        description="Print a short report of the lake and the quarantine.",
    )
    rep.add_argument("--days", type=int, default=14, help="days shown (default the last 14)")
    rep.set_defaults(func=_report)

"""`vouch features`: trust graph, trust scores, fraud and feed features for one snapshot day."""

from __future__ import annotations

import argparse
import json
import sys
from datetime import date, timedelta


def _features(args: argparse.Namespace) -> int:
    from cli.run import materialize_day
    from pipelines.definitions import features_job
    from pipelines.resources import Storage
    from settings import get_settings

    settings = get_settings()
    storage = Storage(settings)
    days = sorted(p.name.removeprefix("event_date=") for p in storage.lake.events_dir.glob("*"))
    if not days and args.date is None:
        print("vouch features: the lake is empty; run `vouch ingest` first", file=sys.stderr)
        return 2
    # Default: the snapshot right after the last day with events, i.e. everything ingested.
    day = args.date or date.fromisoformat(days[-1]) + timedelta(days=1)
    result = materialize_day(
        features_job,
        day=day,
        settings=settings,
        command="vouch features",
        log_level=args.log_level,
        progress=True,
    )
    checks = {
        f"{e.asset_key.to_user_string()}.{e.check_name}": e.passed
        for e in result.get_asset_check_evaluations()
    }
    summary: dict[str, object] = {"snapshot_date": day.isoformat(), "success": result.success}
    for event in result.get_asset_materialization_events():
        meta = event.step_materialization_data.materialization.metadata
        name = event.asset_key.to_user_string()
        summary[name] = {
            k: v.value for k, v in meta.items() if not k.startswith(("path", "edges_"))
        }
    summary["checks_failed"] = sorted(k for k, ok in checks.items() if not ok)
    print(json.dumps(summary, default=str))
    if result.success and args.lowest:
        scores = storage.features.read("trust_scores", day).sort("trust").head(args.lowest)
        print(f"\nLowest trust as of {day} (trust = engine_trust x (1 - graph_risk)):\n")
        print(f"  {'user':<38}{'trust':>7}{'engine':>8}{'risk':>7}{'ring users':>11}{'neg in':>8}")
        for row in scores.iter_rows(named=True):
            print(
                f"  {row['user_id']:<38}{row['trust']:>7.3f}{row['engine_trust']:>8.3f}"
                f"{row['graph_risk']:>7.2f}{row['ring_device_ip_block_users']:>11}"
                f"{row['negative_in_share'] or 0:>8.2f}"
            )
    return 0 if result.success else 1


def register(sub: argparse._SubParsersAction) -> None:
    """features."""
    cmd = sub.add_parser(
        "features",
        help="trust graph, trust scores, fraud and feed features (runs the Dagster assets)",
        description="Materialise the feature assets for one snapshot day (as of its 00:00 UTC) "
        "and print a JSON summary; then the lowest-trust users.",
    )
    cmd.add_argument(
        "--date",
        type=date.fromisoformat,
        help="snapshot day (default: the day after the lake's last event day)",
    )
    cmd.add_argument("--lowest", type=int, default=10, help="lowest-trust users shown (default 10)")
    cmd.add_argument("--log-level", default="WARNING", help="Dagster's console log level")
    cmd.set_defaults(func=_features)

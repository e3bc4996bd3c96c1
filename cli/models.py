"""`vouch models`: train and release the fraud model and the feed ranker, score every user,
fill the review queue; print the metrics and the top of the queue."""

from __future__ import annotations

import argparse
import json
import sys
from datetime import date


def _models(args: argparse.Namespace) -> int:
    from cli.run import latest_day, materialize_day, materialized
    from pipelines.definitions import models_job
    from pipelines.resources import Storage
    from settings import get_settings

    settings = get_settings()
    storage = Storage(settings)
    day = args.date or latest_day(settings, "fraud_features")
    if day is None:
        print("vouch models: no fraud features yet; run `vouch features` first", file=sys.stderr)
        return 2
    result = materialize_day(
        models_job,
        day=day,
        settings=settings,
        command="vouch models",
        log_level=args.log_level,
        progress=True,
    )
    summary: dict[str, object] = {"snapshot_date": day.isoformat(), "success": result.success}
    for name, meta in materialized(result).items():
        summary[name] = {
            k: (round(v, 4) if isinstance(v, float) else v)
            for k, v in meta.items()
            if k not in ("path", "run_id", "precision_recall", "risk_distribution")  # UI tables
        }
    summary["checks_failed"] = sorted(
        f"{e.asset_key.to_user_string()}.{e.check_name}"
        for e in result.get_asset_check_evaluations()
        if not e.passed
    )
    print(json.dumps(summary, default=str))
    if result.success and args.queue:
        queue = storage.features.read("review_queue", day).head(args.queue)
        print(f"\nReview queue for {day} (top {queue.height}):\n")
        for row in queue.iter_rows(named=True):
            why = "; ".join([*row["rule_hits"], *row["reasons"]]) or "-"
            print(
                f"  {row['position']:>3}. {row['user_id']}  risk {row['fraud_risk']:.3f}  "
                f"trust {row['trust']:.2f}  [{row['band']}]  {why}"
            )
    return 0 if result.success else 1


def register(sub: argparse._SubParsersAction) -> None:
    """models."""
    cmd = sub.add_parser(
        "models",
        help="train the fraud model and feed ranker, score users, fill the review queue",
        description="Materialise the model assets for one snapshot day (default: the latest day "
        "with fraud features), print the metrics as one JSON line and the top of the queue.",
    )
    cmd.add_argument("--date", type=date.fromisoformat, help="snapshot day")
    cmd.add_argument("--queue", type=int, default=10, help="queue entries shown (default 10)")
    cmd.add_argument("--log-level", default="WARNING", help="Dagster's console log level")
    cmd.set_defaults(func=_models)

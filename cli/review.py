"""`vouch queue` (the review queue from the latest scores, no retraining; ``--sync`` opens the
console's cases from it) and `vouch seed-core` (core-database accounts for the simulated
platform's users, with the same ids, plus the demo's analyst accounts)."""

from __future__ import annotations

import argparse
import json
import sys
from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING, Any

# polars and the settings (pydantic) load in the commands that use them: every `vouch`
# command imports this module, and they were half a second of `vouch trust score`'s start.
if TYPE_CHECKING:
    import polars as pl

    from pipelines.feature_store import FeatureStore
    from settings import Settings

DEMO_STAFF = (
    ("analyst@vouch.example", "analyst", "Demo Analyst"),
    ("senior@vouch.example", "senior_analyst", "Demo Senior Analyst"),
)


def _queue(args: argparse.Namespace) -> int:
    # The feature store alone, not the Dagster resource: showing the queue loads no Dagster.
    from pipelines.feature_store import FeatureStore
    from settings import get_settings

    settings = get_settings()
    features = FeatureStore(settings.features)
    days = features.days("review_queue")
    day = args.date or (days[-1] if days else None)
    if day is None or day not in days:
        print("vouch queue: no review_queue for that day; run `vouch models`", file=sys.stderr)
        return 2
    queue = features.read("review_queue", day)
    shown = queue.head(args.top)
    if args.json:
        for row in shown.iter_rows(named=True):
            print(json.dumps(row, default=str))
    else:
        print(f"Review queue for {day}: {queue.height} flagged, top {shown.height}:\n")
        for row in shown.iter_rows(named=True):
            why = "; ".join([*row["rule_hits"], *row["reasons"]]) or "-"
            print(
                f"  {row['position']:>3}. {row['user_id']}  risk {row['fraud_risk']:.3f}  "
                f"trust {row['trust']:.2f}  [{row['band']}]  {why}"
            )
    if args.sync:
        at_stake = _money_in(features, day)
        synced = _sync(settings, queue, at_stake=at_stake)
        print(json.dumps({"sync": synced}), file=sys.stderr if args.json else None)
    return 0


def _money_in(features: FeatureStore, day: date) -> dict[str, Decimal]:
    """Money that reached each user in the 7 days to ``day`` (transfers in, escrow released):
    what a fraudster could still cash out, the queue's amount at stake."""
    import polars as pl

    if day not in features.days("fraud_features"):
        return {}
    frame = features.read("fraud_features", day).select(
        "user_id",
        pl.sum_horizontal("transfers_in_amount_7d", "escrow_in_amount_7d").alias("amount"),
    )
    return {
        user: Decimal(str(round(amount, 4))) for user, amount in frame.iter_rows() if amount > 0
    }


def _sync(
    settings: Settings, queue: pl.DataFrame, *, at_stake: dict[str, Decimal]
) -> dict[str, int]:
    from core_api.db.engine import make_engine, make_sessionmaker, upgrade
    from core_api.services import review
    from serving.store import open_store

    flags = [
        review.Flag(
            user_id=row["user_id"],
            risk=float(row["fraud_risk"]),
            band=row["band"],
            reasons=tuple(row["reasons"] or ()),
            rules=tuple(row["rule_hits"] or ()),
            scored_at=row["scored_at"],
            amount=at_stake.get(row["user_id"]),
        )
        for row in queue.iter_rows(named=True)
    ]
    engine = make_engine(settings)
    upgrade(engine)
    try:
        with make_sessionmaker(engine)() as db:
            done = review.sync_cases(db, flags=flags, store=open_store(settings))
    finally:
        engine.dispose()
    return {
        "opened": done.opened,
        "refreshed": done.refreshed,
        "unknown_users": done.unknown_users,
        "held_back": done.held_back,
    }


def _seed(args: argparse.Namespace) -> int:
    from cli.review_seed import platform_users
    from core_api.db.engine import make_engine, make_sessionmaker, upgrade
    from core_api.services.seed import seed_users, staff_account
    from settings import get_settings

    settings = get_settings()
    users = [] if args.staff_only else platform_users(settings)
    engine = make_engine(settings)
    upgrade(engine)
    out: dict[str, Any] = {"platform_users": len(users)}
    try:
        with make_sessionmaker(engine)() as db:
            out["users_added"], out["devices_added"] = seed_users(db, users)
            staff = (
                []
                if args.no_staff
                else [
                    staff_account(db, email=email, role=role, name=name)
                    for email, role, name in DEMO_STAFF
                ]
            )
    finally:
        engine.dispose()
    print(json.dumps(out))
    for s in staff:
        print(f"{s.role}: {s.email}  password: {s.password}")
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    """queue, seed-core."""
    cmd = sub.add_parser(
        "queue",
        help="show the review queue from the latest scores (no retraining)",
        description="Print the review queue the latest scoring run wrote (the `review_queue` "
        "table): riskiest first, each with its band, the rules it hit and the model's reasons. "
        "Nothing is trained or scored.",
    )
    cmd.add_argument("--date", type=date.fromisoformat, help="snapshot day (default: latest)")
    cmd.add_argument("--top", type=int, default=20, help="entries shown (default 20)")
    cmd.add_argument("--json", action="store_true", help="one JSON object per entry")
    cmd.add_argument(
        "--sync",
        action="store_true",
        help="also open or refresh the review console's cases from this queue (and from open "
        "reports, chargebacks and appeals) in the core database",
    )
    cmd.set_defaults(func=_queue)
    seed = sub.add_parser(
        "seed-core",
        help="create core-database accounts for the simulated platform's users",
        description="Give every user of the simulated platform (the lake's registrations, and "
        "everyone the latest scores name) a core-database account with the same id, status "
        "and devices, so /admin and the review console can act on them; and (re)issue the demo "
        "analyst accounts' passwords, printed at the end.",
    )
    who = seed.add_mutually_exclusive_group()
    who.add_argument("--no-staff", action="store_true", help="skip the demo analyst accounts")
    who.add_argument(
        "--staff-only", action="store_true", help="only (re)issue the demo analyst accounts"
    )
    seed.set_defaults(func=_seed)

"""`vouch publish` (user scores -> the online store) and `vouch check USER ACTION` (a decision
as JSON), `vouch versions` (what the store holds)."""

from __future__ import annotations

import argparse
import json
import sys
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from serving.decide import Decider


def _publish(args: argparse.Namespace) -> int:
    from cli.run import latest_day, materialize_day, materialized
    from pipelines.assets.serving import published_scores
    from pipelines.definitions import publish_job
    from settings import get_settings

    settings = get_settings()
    day = args.date or latest_day(settings, "user_scores")
    if day is None:
        print("vouch publish: no user_scores yet; run `vouch models` first", file=sys.stderr)
        return 2
    result = materialize_day(
        publish_job,
        assets=[published_scores],
        command="vouch publish",
        day=day,
        settings=settings,
        log_level=args.log_level,
        progress=sys.stderr.isatty(),
    )
    summary: dict[str, object] = {"snapshot_date": day.isoformat(), "success": result.success}
    for meta in materialized(result).values():
        summary.update(meta)
    print(json.dumps(summary, default=str))
    return 0 if result.success else 1


def _check(args: argparse.Namespace) -> int:
    from serving.decide import Context, Decider
    from serving.rules import default_rules, load_rules
    from serving.store import open_store
    from settings import get_settings

    settings = get_settings()
    rules = load_rules(settings.rules_path) if settings.rules_path else default_rules()
    if args.action not in rules.actions:
        known = ", ".join(rules.actions)
        print(f"vouch check: unknown action {args.action!r}; known: {known}", file=sys.stderr)
        return 2
    store = open_store(settings, timeout_s=rules.store.budget_s)
    if args.examples:
        return _examples(Decider(store, rules=rules), action=args.action)
    if not args.user:
        print("vouch check: give a USER (or --examples)", file=sys.stderr)
        return 2
    context = Context(
        ip=args.ip,
        device=args.device,
        country=args.country,
        account_age_s=args.account_age_s,
        verified=args.verified,
        mfa_age_s=args.mfa_age_s,
        account_status=args.status,
    )
    decision = Decider(store, rules=rules).decide(args.user, args.action, context=context)
    print(json.dumps(decision.to_dict()))
    return 0


def _examples(decider: Decider, *, action: str) -> int:
    """Decisions on ``action`` for the highest, median and lowest published fraud risks, and
    for an unscored newcomer, from a known device (so novelty does not hide the risk rules)."""
    import uuid

    from pipelines.resources import Storage
    from serving.decide import Context
    from settings import get_settings

    store = Storage(get_settings()).features
    days = store.days("user_scores")
    if not days:
        print("vouch check: no user scores yet; run `vouch models`", file=sys.stderr)
        return 2
    scores = store.read("user_scores", days[-1]).sort("fraud_risk", "user_id")
    picks = {
        "highest fraud risk": scores.item(scores.height - 1, "user_id"),
        "median fraud risk": scores.item(scores.height // 2, "user_id"),
        "lowest fraud risk": scores.item(0, "user_id"),
        "newcomer (unscored, 2 h old, verified)": str(uuid.uuid4()),
    }
    print(f"Decisions for `{action}` (rules {decider.rules.version}):\n")
    for label, user in picks.items():
        ctx = Context(
            ip="192.0.2.1",
            device=f"demo-{user[:8]}",
            country="FR",
            verified=True,
            account_age_s=7200.0,
        )
        decider.remember(user, ctx)
        d = decider.decide(user, action, context=ctx)
        risk = "-" if d.fraud_risk is None else f"{d.fraud_risk:.3f}"
        print(f"  {label:<40} {d.outcome:<8} risk {risk:<6} {', '.join(d.reasons) or '-'}")
    return 0


def _versions(args: argparse.Namespace) -> int:
    from serving.store import open_store
    from settings import get_settings

    store = open_store(get_settings(), timeout_s=5.0)
    current, manifests = store.versions()
    now = datetime.now(UTC)
    for m in manifests:
        age = (now - m.published_at).total_seconds()
        state = "current" if m.version == current else ("incomplete" if m.records < 0 else "old")
        print(
            json.dumps(
                {
                    "version": m.version,
                    "state": state,
                    "records": m.records,
                    "snapshot": m.snapshot,
                    "model_version": m.model_version,
                    "published_s_ago": round(age, 1),
                }
            )
        )
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    """publish, check, versions."""
    cmd = sub.add_parser(
        "publish",
        help="publish the latest user scores to the online store",
        description="Materialise `published_scores` for one snapshot day (default: the latest "
        "with user_scores): write a new version, flip the pointer, prune versions past their "
        "grace period. Redis when VOUCH_REDIS_URL is set, else the SQLite file in the data dir.",
    )
    cmd.add_argument("--date", type=date.fromisoformat, help="snapshot day")
    cmd.add_argument("--log-level", default="WARNING", help="Dagster's console log level")
    cmd.set_defaults(func=_publish)

    cmd = sub.add_parser(
        "check",
        help="decide whether USER may do ACTION now; prints the decision as JSON",
        description="One access decision (allow, step_up or deny, with reason codes, the score "
        "version and the rules version) from the published scores and the rules file. Note: "
        "it counts against the action's rate limits like a real request.",
    )
    cmd.add_argument("user", nargs="?", help="user id (UUID)")
    cmd.add_argument("action", help="an action of the rules' table, e.g. payout, order, message")
    cmd.add_argument(
        "--examples",
        action="store_true",
        help="ACTION for the riskiest, median, safest and a new user",
    )
    cmd.add_argument("--ip", help="client IP (per-IP rate limits)")
    cmd.add_argument("--device", help="device id (novelty on critical actions)")
    cmd.add_argument("--country", help="country code (novelty on critical actions)")
    cmd.add_argument("--account-age-s", type=float, help="seconds since sign-up (unscored users)")
    cmd.add_argument("--verified", action="store_true", help="email or phone verified")
    cmd.add_argument("--mfa-age-s", type=float, help="seconds since the last second factor")
    cmd.add_argument(
        "--status",
        default="active",
        choices=["active", "suspended", "banned"],
        help="account status in the core database",
    )
    cmd.set_defaults(func=_check)

    cmd = sub.add_parser(
        "versions",
        help="list the score versions in the online store",
        description="One JSON line per version: current, old or incomplete.",
    )
    cmd.set_defaults(func=_versions)

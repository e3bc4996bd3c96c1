"""`vouch billing`: the subscriptions' billing run. Charges every due subscription its next period
once (a second run, or two at once, charge nothing more); a failed renewal is retried 1, 3 and 7
days after the period's end, then the subscription is cancelled as unpaid. Its events go to the
outbox and are relayed to the landing (or NATS) at the end unless --no-relay."""

from __future__ import annotations

import argparse
from datetime import UTC, datetime


def _when(value: str) -> datetime:
    try:
        at = datetime.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an ISO-8601 time: {value!r}") from None
    return at.replace(tzinfo=UTC) if at.tzinfo is None else at.astimezone(UTC)


def _positive(value: str) -> int:
    try:
        n = int(value)
    except ValueError:
        n = 0
    if n < 1:
        raise argparse.ArgumentTypeError(f"a whole number above 0, not {value!r}")
    return n


def _billing(args: argparse.Namespace) -> int:
    from core_api.db.engine import make_engine, make_sessionmaker, upgrade
    from core_api.services.billing import run_billing
    from core_api.services.outbox import relay_pending, sink_for
    from settings import get_settings

    settings = get_settings()
    engine = make_engine(settings)
    try:
        upgrade(engine)
        sessions = make_sessionmaker(engine)
        report = run_billing(sessions, now=args.at, limit=args.limit)
        print(f"billing: {report.line()}")
        if not args.no_relay:
            print(f"relayed {relay_pending(sessions, sink_for(settings))} events")
    finally:
        engine.dispose()
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    cmd = sub.add_parser(
        "billing",
        help="charge the subscriptions that are due (the billing run)",
        description=__doc__,
    )
    cmd.add_argument(
        "--at",
        type=_when,
        default=None,
        metavar="TIME",
        help="bill as of this UTC time (ISO-8601; default now), e.g. to catch up a missed run",
    )
    cmd.add_argument(
        "--limit", type=_positive, default=100_000, help="at most this many subscriptions per run"
    )
    cmd.add_argument("--no-relay", action="store_true", help="leave the events in the outbox")
    cmd.set_defaults(func=_billing)

"""`vouch codes EMAIL`: the newest messages the dev message table holds for an address, where an
e-mail or SMS provider will stand. In development that is how an analyst reads the one-time
code the review console sends before a ban (and how anyone reads a verification code)."""

from __future__ import annotations

import argparse


def _codes(args: argparse.Namespace) -> int:
    from sqlalchemy import select

    from core_api.db.engine import make_engine, make_sessionmaker
    from core_api.db.identity import DevMessage
    from settings import get_settings

    engine = make_engine(get_settings())
    try:
        with make_sessionmaker(engine)() as db:
            rows = db.execute(
                select(DevMessage.created_at, DevMessage.body)
                .where(DevMessage.recipient == args.recipient.strip().lower())
                .order_by(DevMessage.id.desc())
                .limit(args.last)
            ).all()
    finally:
        engine.dispose()
    if not rows:
        print(f"no messages to {args.recipient}")
        return 1
    for at, body in rows:
        print(f"{at:%Y-%m-%d %H:%M:%S} UTC  {body}")
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    codes = sub.add_parser(
        "codes",
        help="the newest dev messages (one-time codes) sent to an e-mail or phone",
        description=__doc__,
    )
    codes.add_argument("recipient", help="e-mail address or phone number")
    codes.add_argument("--last", type=int, default=3, help="messages shown (default 3)")
    codes.set_defaults(func=_codes)

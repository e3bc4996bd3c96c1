"""`vouch api`: serve the core API (uvicorn), migrating its database first."""

from __future__ import annotations

import argparse


def _serve(args: argparse.Namespace) -> int:
    # Imported here, not at the top: `vouch --help` should not pay for FastAPI and SQLAlchemy.
    import uvicorn

    from core_api.app import create_app

    app = create_app(relay_every_s=args.relay_every_s or None)
    # Client addresses feed rate limits and the trust graph: trust X-Forwarded-For only from
    # the proxies named (--forwarded-allow-ips), never from anyone.
    trusted = args.forwarded_allow_ips
    uvicorn.run(app, host=args.host, port=args.port, log_level=args.log_level,
                proxy_headers=bool(trusted), forwarded_allow_ips=trusted)  # fmt: skip
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    cmd = sub.add_parser(
        "api", help="serve the core API over HTTP",
        description="Serve the core API (OpenAPI at /docs). The database is migrated to the "
        "latest schema at start-up: a SQLite file under the data dir, or PostgreSQL when "
        "VOUCH_DATABASE_URL is set. The outbox relay delivers events to the landing folder.",
    )  # fmt: skip
    cmd.add_argument("--host", default="127.0.0.1")
    cmd.add_argument("--port", type=int, default=8000)
    cmd.add_argument("--relay-every-s", type=float, default=2.0,
                     help="seconds between outbox relay rounds; 0 disables the relay")  # fmt: skip
    cmd.add_argument("--log-level", default="info")
    cmd.add_argument("--forwarded-allow-ips", metavar="IPS",
                     help="proxies whose X-Forwarded-For is the client address (e.g. 127.0.0.1; "
                     "`vouch simulate --via-api` needs it); default: none")  # fmt: skip
    cmd.set_defaults(func=_serve)

"""`vouch api`: serve the core API (uvicorn), migrating its database first."""

from __future__ import annotations

import argparse
import gc
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

# How the parent tells its worker processes the relay interval (uvicorn starts each worker by
# importing ``worker_app``, so it cannot pass arguments).
_RELAY_ENV = "_VOUCH_API_RELAY_EVERY_S"


def worker_app() -> Any:
    """The app of one worker process of ``vouch api --workers N`` (a uvicorn factory)."""
    from core_api.app import create_app

    return _frozen_after_startup(
        create_app(relay_every_s=float(os.environ.get(_RELAY_ENV, "2")) or None)
    )


def _frozen_after_startup(app: Any) -> Any:
    """Freeze what start-up made (modules, routes, schemas, pools: ~190,000 objects) out of the
    garbage collector's reach once the app has started. A full collection walks every tracked
    object with the GIL held: ~75 ms here, a stall of every request in flight, several times a
    minute under load. Frozen, it walks only what requests made since."""
    startup = app.router.lifespan_context

    @asynccontextmanager
    async def lifespan(app_: Any) -> AsyncIterator[Any]:
        async with startup(app_) as state:
            gc.collect()
            gc.freeze()
            yield state

    app.router.lifespan_context = lifespan
    return app


def _migrate() -> None:
    # Once, before the workers start: N processes racing to create a fresh SQLite schema would
    # collide (PostgreSQL serialises them with an advisory lock, SQLite has none).
    from core_api.db.engine import make_engine, upgrade
    from settings import get_settings

    engine = make_engine(get_settings())
    try:
        upgrade(engine)
    finally:
        engine.dispose()


def _serve(args: argparse.Namespace) -> int:
    # Imported here, not at the top: `vouch --help` should not pay for FastAPI and SQLAlchemy.
    import uvicorn

    # Client addresses feed rate limits and the trust graph: trust X-Forwarded-For only from
    # the proxies named (--forwarded-allow-ips), never from anyone.
    trusted = args.forwarded_allow_ips
    options: dict[str, Any] = {
        "host": args.host,
        "port": args.port,
        "log_level": args.log_level,
        "access_log": not args.no_access_log,
        "proxy_headers": bool(trusted),
        "forwarded_allow_ips": trusted,
    }
    if args.workers > 1:
        _migrate()
        # Each worker runs its own outbox relay: on PostgreSQL they share the rows (SKIP
        # LOCKED); on SQLite two may deliver one batch twice, which at-least-once allows.
        os.environ[_RELAY_ENV] = str(args.relay_every_s)
        uvicorn.run(f"{__name__}:worker_app", factory=True, workers=args.workers, **options)
        return 0
    from core_api.app import create_app

    app = _frozen_after_startup(create_app(relay_every_s=args.relay_every_s or None))
    uvicorn.run(app, **options)
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    cmd = sub.add_parser(
        "api",
        help="serve the core API over HTTP",
        description="Serve the core API (OpenAPI at /docs). The database is migrated to the "
        "latest schema at start-up: a SQLite file under the data dir, or PostgreSQL when "
        "VOUCH_DATABASE_URL is set. The outbox relay delivers events to the landing folder.",
    )
    cmd.add_argument("--host", default="127.0.0.1")
    cmd.add_argument("--port", type=int, default=8000)
    cmd.add_argument(
        "--workers",
        type=int,
        default=1,
        help="worker processes (one per core is a good start); each has its own connection "
        "pool and outbox relay",
    )
    cmd.add_argument(
        "--relay-every-s",
        type=float,
        default=2.0,
        help="seconds between outbox relay rounds; 0 disables the relay",
    )
    cmd.add_argument("--log-level", default="info")
    cmd.add_argument(
        "--no-access-log",
        action="store_true",
        help="do not log one line per request (decisions and errors are still logged)",
    )
    cmd.add_argument(
        "--forwarded-allow-ips",
        metavar="IPS",
        help="proxies whose X-Forwarded-For is the client address (e.g. 127.0.0.1; "
        "`vouch simulate --via-api` needs it); default: none",
    )
    cmd.set_defaults(func=_serve)

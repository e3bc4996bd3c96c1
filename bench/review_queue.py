"""Review queue pages over 100,000 open cases: keyset paging at any depth.

    python -m bench.review_queue [--cases 100000] [--pages 200] [--database-url URL]

Fills a fresh database (SQLite file in a temporary directory, or the PostgreSQL at
``--database-url``, e.g. ``postgresql://postgres@127.0.0.1:5432/test``, in a schema of its own
that is dropped afterwards) with ``--cases`` undecided cases over a quarter as many users (four
sources each), then times ``review.queue`` pages of 50: the first page of each sort, pages deep
in the queue reached by their cursor (the 1,000th page of risk order, i.e. rows 50,000+), a
filtered page (band and source) and a search by e-mail. Each figure is the median and maximum of
``--repeat`` calls. Goal (issue 15): a page in <= 100 ms at 100,000 open cases. The last line is
one JSON object.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import tempfile
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, insert, text
from sqlalchemy.orm import Session

from core_api.db.admin import RoleGrant
from core_api.db.engine import make_engine, make_sessionmaker, upgrade
from core_api.db.identity import User
from core_api.db.review import SOURCES, ReviewCase
from core_api.services import review
from settings import Settings

BANDS = ("low", "medium", "high")
REASONS = ("device shared by 5+ accounts", "money from 5+ senders in 7 days", "reported for scam")
T0 = datetime(2026, 12, 1, tzinfo=UTC)


def fill(engine: Engine, *, cases: int, seed: int) -> tuple[str, str]:
    """``cases`` open cases; returns an analyst's id and one e-mail to search for."""
    rng = random.Random(seed)
    n_users = max(1, cases // len(SOURCES))
    users = [str(uuid.UUID(int=rng.getrandbits(128))) for _ in range(n_users)]
    analyst = str(uuid.uuid4())
    with engine.begin() as conn:
        rows = [
            {
                "id": u,
                "email": f"u{i}@bench.example",
                "password_hash": "!",
                "display_name": "b",
                "status": "active",
                "bio": "",
                "created_at": T0,
                "updated_at": T0,
            }
            for i, u in enumerate([*users, analyst])
        ]
        for start in range(0, len(rows), 10_000):
            conn.execute(insert(User), rows[start : start + 10_000])
        conn.execute(insert(RoleGrant), [{"user_id": analyst, "role": "analyst", "granted_at": T0}])
        batch = []
        for i in range(cases):
            opened = T0 - timedelta(minutes=rng.randrange(60 * 24 * 30))
            batch.append(
                {
                    "id": str(uuid.UUID(int=rng.getrandbits(128))),
                    "user_id": users[i % n_users],
                    "source": SOURCES[(i // n_users) % len(SOURCES)],
                    "risk": round(rng.random(), 4),
                    "band": rng.choice(BANDS),
                    "reasons": rng.choice(REASONS),
                    "amount_at_stake": Decimal(rng.randrange(0, 5_000_000)) / 100,
                    "status": "open" if rng.random() < 0.9 else "claimed",
                    "assignee_id": None,
                    "opened_at": opened,
                    "evidence_at": opened,
                    "updated_at": opened,
                }
            )
            if len(batch) == 10_000:
                conn.execute(insert(ReviewCase), batch)
                batch = []
        if batch:
            conn.execute(insert(ReviewCase), batch)
        conn.execute(text("ANALYZE"))  # the planners' statistics, as a live database has them
    return analyst, f"u{n_users // 2}@bench.example"


def _timed(call: Callable[[], Any], *, repeat: int) -> dict[str, float]:
    ms = []
    for _ in range(repeat):
        started = time.perf_counter()
        call()
        ms.append((time.perf_counter() - started) * 1000)
    return {"median_ms": round(statistics.median(ms), 2), "max_ms": round(max(ms), 2)}


def measure(db: Session, analyst: str, *, email: str, pages: int, repeat: int) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for sort in review.SORTS:
        out[f"first_page_{sort}"] = _timed(
            lambda s=sort: review.queue(db, analyst_id=analyst, sort=s), repeat=repeat
        )
    cursor, walked = None, 0
    started = time.perf_counter()
    for _ in range(pages):  # walk down to the deep page, one cursor at a time
        page = review.queue(db, analyst_id=analyst, cursor=cursor)
        cursor, walked = page.next_cursor, walked + len(page.rows)
    out["walk"] = {
        "pages": pages,
        "rows": walked,
        "mean_page_ms": round((time.perf_counter() - started) * 1000 / pages, 2),
    }
    out["deep_page_risk"] = _timed(
        lambda: review.queue(db, analyst_id=analyst, cursor=cursor), repeat=repeat
    )
    old_first = review.queue(db, analyst_id=analyst, sort="age", descending=False)
    out["oldest_first_next_page"] = _timed(
        lambda: review.queue(
            db, analyst_id=analyst, sort="age", descending=False, cursor=old_first.next_cursor
        ),
        repeat=repeat,
    )
    shady = review.QueueFilter(band="high", source="chargeback")
    out["filtered_page"] = _timed(
        lambda: review.queue(db, analyst_id=analyst, filters=shady, sort="amount"), repeat=repeat
    )
    out["search_email"] = _timed(
        lambda: review.queue(db, analyst_id=analyst, filters=review.QueueFilter(search=email)),
        repeat=repeat,
    )
    return out


def run(settings: Settings, *, cases: int, pages: int, repeat: int, seed: int) -> dict[str, Any]:
    engine = make_engine(settings)
    upgrade(engine)
    started = time.perf_counter()
    analyst, email = fill(engine, cases=cases, seed=seed)
    filled_s = time.perf_counter() - started
    with make_sessionmaker(engine)() as db:
        figures = measure(db, analyst, email=email, pages=pages, repeat=repeat)
    engine.dispose()
    worst = max(v["max_ms"] for v in figures.values() if "max_ms" in v)
    return {
        "database": engine.dialect.name,
        "open_cases": cases,
        "fill_s": round(filled_s, 1),
        **figures,
        "worst_page_ms": worst,
        "goal_ms": 100,
        "met": worst <= 100,
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--cases", type=int, default=100_000)
    parser.add_argument("--pages", type=int, default=1000, help="pages walked to the deep page")
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--seed", type=int, default=15)
    parser.add_argument("--database-url", help="PostgreSQL (default: a SQLite file)")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(data_dir=Path(tmp), database_url=None, redis_url=None, nats_url=None)
        schema = None
        if args.database_url:
            import psycopg

            schema = f"bench_review_{uuid.uuid4().hex[:8]}"
            with psycopg.connect(args.database_url, autocommit=True) as admin:
                admin.execute(f'CREATE SCHEMA "{schema}"')
            url = f"{args.database_url}?options=-csearch_path%3D{schema}"
            settings = settings.model_copy(update={"database_url": url})
        try:
            result = run(
                settings, cases=args.cases, pages=args.pages, repeat=args.repeat, seed=args.seed
            )
        finally:
            if schema:
                with psycopg.connect(args.database_url, autocommit=True) as admin:
                    admin.execute(f'DROP SCHEMA "{schema}" CASCADE')
    print(json.dumps(result))


if __name__ == "__main__":
    main()

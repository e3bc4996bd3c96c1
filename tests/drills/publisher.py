"""A score publisher as a process of its own, for the drill that SIGKILLs it half-way.

    python -m tests.drills.publisher (--redis URL | --sqlite PATH) --users N --trust T

publishes N users (``user_id(0..N-1)``) with trust T through ``serving.publish.publish``.
"""

from __future__ import annotations

import argparse
from datetime import UTC, datetime

import polars as pl

from serving.publish import publish
from serving.store import RedisStore, SQLiteStore

PREFIX = "00000000-0000-4000-8000-"


def user_id(i: int) -> str:
    """The ``i``-th user of a drill set (decimal digits are hex digits too)."""
    return f"{PREFIX}{i:012d}"


def scores(n: int, *, trust: float) -> pl.DataFrame:
    """``n`` users, all with the same values, so any record of another set stands out."""
    return pl.select(i=pl.int_range(n)).select(
        user_id=pl.concat_str(pl.lit(PREFIX), pl.col("i").cast(pl.String).str.zfill(12)),
        trust=pl.lit(trust),
        fraud_risk=pl.lit(round(1 - trust, 6)),
        band=pl.lit("low"),
        reasons=pl.concat_list(pl.lit(f"trust {trust}")),
        model_version=pl.lit(f"drill-{trust}"),
        scored_at=pl.lit(datetime.now(UTC), dtype=pl.Datetime("us", "UTC")),
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    where = parser.add_mutually_exclusive_group(required=True)
    where.add_argument("--redis")
    where.add_argument("--sqlite")
    parser.add_argument("--users", type=int, required=True)
    parser.add_argument("--trust", type=float, required=True)
    args = parser.parse_args()
    frame = scores(args.users, trust=args.trust)
    store = RedisStore(args.redis, timeout_s=5) if args.redis else SQLiteStore(args.sqlite)
    print("publishing", flush=True)
    publish(store, frame, snapshot=f"drill-{args.trust}")


if __name__ == "__main__":
    main()

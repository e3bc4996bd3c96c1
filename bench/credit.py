"""What the credit limits would have lent to fraudsters and to honest sellers, early.

    python -m bench.credit --users 4000 --days 35 --window-days 7 --settle-days 9 --seed 11

Simulates and ingests a platform (under $VOUCH_DATA_DIR/bench/credit/<run>), runs the real
Dagster assets at the snapshot T = end - window - settle (trust graph and scores, fraud
features, model release, user scores, ``credit_limits``), then replays the orders paid in
``[T, T + window)`` under two early-release policies:

- *full*: every order's escrow goes to its seller the moment it is paid;
- *limits*: a seller's order goes early only if the money already released early on their
  orders not yet delivered, plus this order, stays within their limit as of T (in the limit's
  currency); delivery frees it again (what ``core_api.services.credit`` does).

An order is *bad* when the lake shows it not delivered by the end of the simulation (``settle``
days after the window, longer than honest shipping takes) or refunded: money released early
on it must come back from the seller. Only then, for judging, the simulator's ground truth
says which sellers are fraudulent (``fraud_from`` before the window ends); it is never an
input of the limits. Amounts are in USD at the simulator's fixed rates.

Prints, as its last line, one JSON object: ``limit_share_to_fraud`` (share of all limit money
given to fraudulent users; ``fraud_user_share`` for scale), ``with_limit`` (share of honest and
of fraudulent users with a limit above zero), and for each policy the money released early
(``released_usd``, ``honest_good_released_usd``: honest sellers' orders that were delivered,
the benefit), the loss (``fraud_loss_usd``: released early on fraudulent sellers' bad orders,
which nobody pays back) and ``honest_bad_usd`` (honest sellers' bad orders, recoverable from
them); ``loss_avoided_share`` and ``honest_benefit_kept_share`` compare the two.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import time
from collections import defaultdict
from datetime import UTC, datetime, timedelta

import dagster
import polars as pl

from features.lake import read_flat
from pipelines.assets.credit import credit_limits_asset
from pipelines.assets.features import fraud_features, trust_graph, trust_scores
from pipelines.assets.models import fraud_model, user_scores_asset
from pipelines.ingest import Lake, ingest_days, landing_partitions
from pipelines.resources import Storage
from settings import Settings, get_settings
from simulator import SimConfig, simulate
from simulator import catalog as cat

ASSETS = [trust_graph, trust_scores, fraud_features, fraud_model, user_scores_asset]
USD = dict(zip(cat.CURRENCY.tolist(), cat.FX.tolist(), strict=True))  # units per USD


def window_orders(events_dir: object, *, start: datetime, end: datetime) -> pl.DataFrame:
    """Orders paid in ``[start, end)``: seller, amount (local and USD), paid and delivered
    times, and whether they went bad (not delivered by the end of the lake, or refunded)."""
    flat = read_flat(
        str(events_dir), types=("ORDER_PLACED", "ORDER_STATUS_CHANGED", "REFUND_ISSUED")
    )
    placed = flat.filter(pl.col("event_type") == "ORDER_PLACED").select(
        pl.col("subject_id").alias("order_id"),
        "seller_id",
        pl.col("amount").cast(pl.Float64),
        "currency",
    )
    status = flat.filter(pl.col("event_type") == "ORDER_STATUS_CHANGED")
    paid = (
        status.filter(pl.col("order_status") == "paid")
        .group_by("subject_id")
        .agg(pl.col("at").min().alias("paid_at"))
    )
    delivered = (
        status.filter(pl.col("order_status") == "delivered")
        .group_by("subject_id")
        .agg(pl.col("at").min().alias("delivered_at"))
    )
    refunded = flat.filter(pl.col("event_type") == "REFUND_ISSUED").select(
        pl.col("subject_id").unique(), pl.lit(True).alias("refunded")
    )
    orders = (
        placed.join(paid.rename({"subject_id": "order_id"}), on="order_id")
        .join(delivered.rename({"subject_id": "order_id"}), on="order_id", how="left")
        .join(refunded.rename({"subject_id": "order_id"}), on="order_id", how="left")
        .filter((pl.col("paid_at") >= start) & (pl.col("paid_at") < end))
    )
    return orders.with_columns(
        bad=pl.col("delivered_at").is_null() | pl.col("refunded").fill_null(False),
        usd=pl.col("amount") / pl.col("currency").replace_strict(USD, default=None),
    ).sort("paid_at")


def replay(orders: pl.DataFrame, limits: dict[str, tuple[float, str | None]]) -> list[bool]:
    """Which orders go early under the limits (in paid order; delivery frees the limit)."""
    out_by_seller: dict[str, list[tuple[datetime | None, float]]] = defaultdict(list)
    released = []
    for row in orders.iter_rows(named=True):
        limit, currency = limits.get(row["seller_id"], (0.0, None))
        now, mine = row["paid_at"], out_by_seller[row["seller_id"]]
        mine[:] = [(d, a) for d, a in mine if d is None or d > now]  # delivered: freed
        ok = currency == row["currency"] and sum(a for _, a in mine) + row["amount"] <= limit
        if ok:
            mine.append((row["delivered_at"], row["amount"]))
        released.append(ok)
    return released


def _policy(orders: pl.DataFrame, released: pl.Series) -> dict[str, float]:
    went = orders.filter(released)
    honest_good = went.filter(~pl.col("fraud") & ~pl.col("bad"))
    return {
        "released_usd": round(float(went["usd"].sum()), 2),
        "honest_good_released_usd": round(float(honest_good["usd"].sum()), 2),
        "fraud_loss_usd": round(
            float(went.filter(pl.col("fraud") & pl.col("bad"))["usd"].sum()), 2
        ),
        "honest_bad_usd": round(
            float(went.filter(~pl.col("fraud") & pl.col("bad"))["usd"].sum()), 2
        ),
        "orders": went.height,
    }


def judge(storage: Storage, *, at: datetime, window: timedelta) -> dict[str, object]:
    limits = storage.features.read("credit_limits", at.date())
    truth = pl.read_parquet(storage.truth / "users.parquet").select("user_id", "fraud_from")
    fraud_ids = set(truth.filter(pl.col("fraud_from") < at + window)["user_id"].to_list())
    limits = limits.with_columns(
        fraud=pl.col("user_id").is_in(list(fraud_ids)),
        limit=pl.col("credit_limit").cast(pl.Float64),
    ).with_columns(
        limit_usd=pl.col("limit") / pl.col("credit_currency").replace_strict(USD, default=None)
    )
    total = float(limits["limit_usd"].fill_null(0).sum())
    orders = window_orders(storage.lake.events_dir, start=at, end=at + window).with_columns(
        fraud=pl.col("seller_id").is_in(list(fraud_ids))
    )
    by_user = {
        r["user_id"]: (r["limit"], r["credit_currency"]) for r in limits.iter_rows(named=True)
    }
    full = _policy(orders, pl.Series([True] * orders.height, dtype=pl.Boolean))
    capped = _policy(orders, pl.Series(replay(orders, by_user), dtype=pl.Boolean))
    return {
        "users": limits.height,
        "fraud_user_share": round(float(limits["fraud"].mean() or 0), 4),
        "limit_share_to_fraud": round(
            float(limits.filter("fraud")["limit_usd"].fill_null(0).sum()) / total, 4
        )
        if total
        else None,
        "with_limit": {
            name: round(float((part["limit"] > 0).mean() or 0), 4)
            for name, part in (
                ("honest", limits.filter(~pl.col("fraud"))),
                ("fraud", limits.filter(pl.col("fraud"))),
            )
        },
        "window_orders": orders.height,
        "bad_orders": int(orders["bad"].sum()),
        "full": full,
        "limits": capped,
        "loss_avoided_share": round(1 - capped["fraud_loss_usd"] / full["fraud_loss_usd"], 4)
        if full["fraud_loss_usd"]
        else None,
        "honest_benefit_kept_share": round(
            capped["honest_good_released_usd"] / full["honest_good_released_usd"], 4
        )
        if full["honest_good_released_usd"]
        else None,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.credit", description=__doc__)
    parser.add_argument("--users", type=int, default=4000)
    parser.add_argument("--days", type=int, default=35)
    parser.add_argument("--window-days", type=int, default=7)
    parser.add_argument("--settle-days", type=int, default=9)
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--reuse", action="store_true", help="keep an earlier run's lake")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    root = get_settings().bench / "credit" / f"{args.users}x{args.days}-seed{args.seed}"
    settings = Settings(data_dir=root)
    config = SimConfig(users=args.users, days=args.days, seed=args.seed)
    if args.reuse and (settings.truth / "users.parquet").exists():
        for folder in (settings.features, settings.mlflow_artifacts):
            shutil.rmtree(folder, ignore_errors=True)
        settings.mlflow_database.unlink(missing_ok=True)
    else:
        shutil.rmtree(root, ignore_errors=True)
        simulate(config, out=settings.landing, truth_out=settings.truth, progress=True)
        days = sorted(landing_partitions(settings.landing))
        ingest_days(settings.landing, days, lake=Lake(settings.lake), progress=True)
    end = datetime.combine(config.start, datetime.min.time(), UTC) + timedelta(days=args.days)
    window = timedelta(days=args.window_days)
    at = end - window - timedelta(days=args.settle_days)
    result = dagster.materialize(
        [*ASSETS, credit_limits_asset],
        resources={"storage": Storage(settings)},
        partition_key=at.date().isoformat(),
        raise_on_error=False,
    )
    if not result.success:
        print("the assets failed; see the log above", file=sys.stderr)
        return 1
    out = {
        "users": args.users,
        "days": args.days,
        "seed": args.seed,
        "snapshot": at.date().isoformat(),
        "window_days": args.window_days,
        "settle_days": args.settle_days,
        **judge(Storage(settings), at=at, window=window),
        "seconds": round(time.perf_counter() - started, 1),
    }
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Per-user payment history as of a scoring time: what a credit limit is lent against.

From the lake's flat events (``features.lake.read_flat``), only those before ``at``:

- completed orders: orders whose last status before ``at`` is ``delivered`` (so an order
  refunded after delivery no longer counts), with the amount and currency they were placed
  for, counted for their seller (``sales_*``) and their buyer (``purchases_*``) over
  ``VOLUME_DAYS``. Escrow releases are not used: an early release (the use of the limit
  itself) must not raise the limit;
- ``credit_currency``: the currency of the user's largest completed volume (sales first, then
  purchases); volumes are counted in that currency only (the platform has no FX rates);
- over ``RECENT_DAYS``: ``disputes_lost`` (disputes on their sales resolved for the buyer,
  conceded ones included) and ``chargebacks`` (on payments they made, or on orders they sold);
- ``account_age_days`` (from ``USER_REGISTERED``) and ``account_status`` (the last
  ``ACCOUNT_STATUS_CHANGED``, ``active`` when there is none);
- ``typical_order``: the median completed order amount in the user's currency, platform-wide
  (what the cap is counted in).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import polars as pl

from features.lake import read_flat, utc

VOLUME_DAYS = 180
RECENT_DAYS = 90
TYPES = (
    "USER_REGISTERED",
    "ACCOUNT_STATUS_CHANGED",
    "ORDER_PLACED",
    "ORDER_STATUS_CHANGED",
    "DISPUTE_RESOLVED",
    "CHARGEBACK_RECEIVED",
)
COUNTED = (
    "sales_n",
    "sales_amount",
    "purchases_n",
    "purchases_amount",
    "disputes_lost",
    "chargebacks",
)
AMOUNT = pl.Float64  # volumes feed a rule of thumb, not a ledger: floats are enough here
HISTORY: dict[str, pl.DataType] = {
    "user_id": pl.String(),
    "account_age_days": pl.Float64(),
    "account_status": pl.String(),
    "credit_currency": pl.String(),
    "sales_n": pl.UInt32(),
    "sales_amount": AMOUNT(),
    "purchases_n": pl.UInt32(),
    "purchases_amount": AMOUNT(),
    "disputes_lost": pl.UInt32(),
    "chargebacks": pl.UInt32(),
    "typical_order": AMOUNT(),
}


def read_history_events(events_dir: str | Path, *, at: datetime) -> pl.DataFrame:
    """The lake's events that :func:`payment_history` reads, strictly before ``at``."""
    at = utc(at)
    events = read_flat(events_dir, until=at, types=TYPES)
    return events.filter(pl.col("at") < at)


def _completed(events: pl.DataFrame, *, since: datetime) -> pl.DataFrame:
    """``order_id, buyer_id, seller_id, amount, currency`` of orders delivered by now (their
    last status) and placed or delivered since ``since``."""
    placed = events.filter(pl.col("event_type") == "ORDER_PLACED").select(
        pl.col("subject_id").alias("order_id"),
        pl.col("actor_id").alias("buyer_id"),
        "seller_id",
        pl.col("amount").cast(AMOUNT),
        "currency",
    )
    last = (
        events.filter(pl.col("event_type") == "ORDER_STATUS_CHANGED")
        .group_by(pl.col("subject_id").alias("order_id"))
        .agg(pl.col("order_status").sort_by("at").last(), pl.col("at").max().alias("done_at"))
        .filter((pl.col("order_status") == "delivered") & (pl.col("done_at") >= since))
    )
    return placed.join(last.select("order_id"), on="order_id", how="inner").unique("order_id")


def _volumes(orders: pl.DataFrame, *, role: str, name: str) -> pl.DataFrame:
    return orders.group_by(pl.col(role).alias("user_id"), "currency").agg(
        pl.len().cast(pl.UInt32).alias(f"{name}_n"), pl.col("amount").sum().alias(f"{name}_amount")
    )


def _counts(frame: pl.DataFrame, *, who: str, name: str) -> pl.DataFrame:
    return frame.group_by(pl.col(who).alias("user_id")).agg(pl.len().cast(pl.UInt32).alias(name))


def payment_history(events: pl.DataFrame, *, at: datetime) -> pl.DataFrame:
    """One row per user seen in ``events`` (``HISTORY`` columns) as of ``at``; events at or
    after ``at`` are ignored, so a frame read past ``at`` gives the same answer."""
    at = utc(at)
    events = events.filter(pl.col("at") < at)
    recent = events.filter(pl.col("at") >= at - timedelta(days=RECENT_DAYS))
    orders = _completed(events, since=at - timedelta(days=VOLUME_DAYS))
    sales = _volumes(orders, role="seller_id", name="sales")
    purchases = _volumes(orders, role="buyer_id", name="purchases")
    volumes = sales.join(purchases, on=["user_id", "currency"], how="full", coalesce=True)
    volumes = volumes.with_columns(pl.col("^(sales|purchases)_(n|amount)$").fill_null(0))
    home = volumes.sort(
        ["user_id", "sales_amount", "purchases_amount", "currency"],
        descending=[False, True, True, False],
    ).unique("user_id", keep="first")
    typical = orders.group_by("currency").agg(pl.col("amount").median().alias("typical_order"))
    lost = recent.filter(
        (pl.col("event_type") == "DISPUTE_RESOLVED") & (pl.col("dispute_outcome") == "buyer_won")
    )
    charged = recent.filter(pl.col("event_type") == "CHARGEBACK_RECEIVED")
    chargebacks = pl.concat(
        [
            charged.select(pl.col("actor_id").alias("user_id")),
            charged.filter(pl.col("seller_id").is_not_null()).select(
                pl.col("seller_id").alias("user_id")
            ),
        ]
    )
    registered = (
        events.filter(pl.col("event_type") == "USER_REGISTERED")
        .group_by(pl.col("subject_id").alias("user_id"))
        .agg(pl.col("at").min().alias("registered_at"))
    )
    status = (
        events.filter(pl.col("event_type") == "ACCOUNT_STATUS_CHANGED")
        .group_by(pl.col("subject_id").alias("user_id"))
        .agg(pl.col("account_status").sort_by("at").last())
    )
    disputes = _counts(lost, who="seller_id", name="disputes_lost")
    charged_n = _counts(chargebacks, who="user_id", name="chargebacks")
    users = pl.concat(
        [f.select("user_id") for f in (registered, home, status, disputes, charged_n)]
    ).unique()
    out = (
        users.join(registered, on="user_id", how="left")
        .join(status, on="user_id", how="left")
        .join(home.rename({"currency": "credit_currency"}), on="user_id", how="left")
        .join(disputes, on="user_id", how="left")
        .join(charged_n, on="user_id", how="left")
        .join(typical.rename({"currency": "credit_currency"}), on="credit_currency", how="left")
    )
    return (
        out.with_columns(
            account_age_days=(pl.lit(at) - pl.col("registered_at")).dt.total_seconds() / 86_400,
            account_status=pl.col("account_status").fill_null("active"),
        )
        .with_columns(pl.col(*COUNTED).fill_null(0))
        .select(list(HISTORY))
        .cast(HISTORY)  # type: ignore[arg-type]
        .sort("user_id")
    )

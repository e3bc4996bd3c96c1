"""Search ranking features: per seller as of a snapshot, per shown listing, and labelled groups.

Seller features (:func:`seller_table`) are taken as of the start of the search's day, the way
serving sees them (a daily release of the seller table): trust (the latest trust snapshot at
or before then), fraud risk (the latest published risk, if given; NaN otherwise), reviews
received and their mean rating, orders placed with them, disputes opened against them, account
age, listings created, and whether they are flagged (banned or confirmed fraud).

Listing features come from the search itself (``text_match``, ``distance_km``, as the core API
measured them) and from the listing: age at the search, price against its category's median in
its currency over the listings of the 30 days before the day (``price_ratio``), condition.

A group is one search (one page); a shown listing's label is 1 if the searcher ordered it
naming that search within ``LABEL_WINDOW``, else 0.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import polars as pl

from features.lake import utc
from features.search.inputs import SearchInputs

LABEL_WINDOW = timedelta(days=1)
MEDIAN_WINDOW = timedelta(days=30)
SELLER_FEATURES = (
    "seller_trust",
    "seller_fraud_risk",
    "seller_reviews",
    "seller_rating",
    "seller_sales",
    "seller_disputes",
    "seller_age_days",
    "seller_listings",
    "seller_flagged",
)
LISTING_FEATURES = ("text_match", "distance_km", "listing_age_days", "price_ratio", "item_new")
SEARCH_FEATURES = LISTING_FEATURES + SELLER_FEATURES
DAY_S = 86_400.0


def _latest(frame: pl.DataFrame | None, value: str, *, at: datetime) -> pl.DataFrame:
    """``user_id, value``: each user's latest ``value`` at or before ``at`` (``snapshot_at``)."""
    if frame is None or frame.is_empty():
        return pl.DataFrame(schema={"user_id": pl.String, value: pl.Float64})
    return (
        frame.filter(pl.col("snapshot_at") <= at)
        .sort("snapshot_at")
        .group_by("user_id")
        .agg(pl.col(value).last().cast(pl.Float64))
    )


def _count(frame: pl.DataFrame, key: str, time: str, *, at: datetime, name: str) -> pl.DataFrame:
    return (
        frame.filter(pl.col(time) < at)
        .group_by(key)
        .agg(pl.len().cast(pl.Float64).alias(name))
        .rename({key: "seller_id"})
    )


def seller_table(
    inputs: SearchInputs,
    *,
    at: datetime,
    trust: pl.DataFrame | None = None,
    risk: pl.DataFrame | None = None,
) -> pl.DataFrame:
    """``seller_id`` and :data:`SELLER_FEATURES` of every seller with a listing before ``at``.
    ``trust``: (user_id, snapshot_at, trust); ``risk``: (user_id, snapshot_at, fraud_risk)."""
    at = utc(at)
    sellers = inputs.listings.filter(pl.col("created_at") < at)
    table = sellers.group_by("seller_id").agg(seller_listings=pl.len().cast(pl.Float64))
    reviews = (
        inputs.reviews.filter(pl.col("reviewed_at") < at)
        .group_by("reviewee_id")
        .agg(
            seller_reviews=pl.len().cast(pl.Float64),
            seller_rating=pl.col("rating").cast(pl.Float64).mean(),
        )
        .rename({"reviewee_id": "seller_id"})
    )
    flags = inputs.flags.filter(pl.col("changed_at") < at)
    flagged = (
        flags.sort("changed_at")
        .group_by("user_id")
        .agg(pl.col("flagged").last())
        .filter(pl.col("flagged"))
        .select(seller_id="user_id", seller_flagged=pl.lit(1.0))
    )
    user = {"user_id": "seller_id"}
    joins = [
        reviews,
        _count(inputs.sales, "seller_id", "sold_at", at=at, name="seller_sales"),
        _count(inputs.disputes, "seller_id", "disputed_at", at=at, name="seller_disputes"),
        _latest(trust, "trust", at=at).rename({**user, "trust": "seller_trust"}),
        _latest(risk, "fraud_risk", at=at).rename({**user, "fraud_risk": "seller_fraud_risk"}),
        inputs.users.select(
            seller_id="user_id",
            seller_age_days=(pl.lit(at) - pl.col("registered_at")).dt.total_seconds() / DAY_S,
        ),
        flagged,
    ]
    for frame in joins:
        table = table.join(frame, on="seller_id", how="left")
    counts = ("seller_reviews", "seller_sales", "seller_disputes", "seller_flagged")
    return table.with_columns(pl.col(c).fill_null(0.0) for c in counts).select(
        "seller_id", *SELLER_FEATURES
    )


def category_medians(inputs: SearchInputs, *, at: datetime) -> pl.DataFrame:
    """``category, currency, median``: listing prices of the ``MEDIAN_WINDOW`` before ``at``."""
    at = utc(at)
    recent = inputs.listings.filter(
        (pl.col("created_at") < at) & (pl.col("created_at") >= at - MEDIAN_WINDOW)
    )
    return recent.group_by("category", "currency").agg(median=pl.col("price").median())


def _day(at: pl.Expr) -> pl.Expr:
    return at.dt.truncate("1d")


def search_groups(
    inputs: SearchInputs,
    *,
    start: datetime,
    trust: pl.DataFrame | None = None,
    risk: pl.DataFrame | None = None,
) -> pl.DataFrame:
    """Searches shown in [start, cut-off) with every feature and, if the inputs hold orders,
    their labels; rows ordered by ``group_id`` (one search) then position."""
    shown = inputs.shown.filter(pl.col("shown_at") >= utc(start))
    first = shown.group_by("search_id").agg(request_at=pl.col("shown_at").min())
    shown = shown.join(first, on="search_id").with_columns(snapshot_at=_day(pl.col("request_at")))
    rows = shown.join(inputs.listings, on="listing_id", how="inner")
    days = sorted(rows.get_column("snapshot_at").unique().to_list())
    sellers = pl.concat(
        [
            seller_table(inputs, at=d, trust=trust, risk=risk).with_columns(
                snapshot_at=pl.lit(d, pl.Datetime("us", "UTC"))
            )
            for d in days
        ]
        or [pl.DataFrame(schema={"seller_id": pl.String, "snapshot_at": pl.Datetime("us", "UTC")})]
    )
    medians = pl.concat(
        [
            category_medians(inputs, at=d).with_columns(
                snapshot_at=pl.lit(d, pl.Datetime("us", "UTC"))
            )
            for d in days
        ]
        or [pl.DataFrame(schema={"snapshot_at": pl.Datetime("us", "UTC")})],
        how="diagonal",
    )
    rows = rows.join(sellers, on=["seller_id", "snapshot_at"], how="left")
    if medians.width > 1:
        rows = rows.join(medians, on=["category", "currency", "snapshot_at"], how="left")
    else:
        rows = rows.with_columns(median=pl.lit(None, pl.Float64))
    rows = rows.with_columns(
        listing_age_days=(pl.col("request_at") - pl.col("created_at")).dt.total_seconds() / DAY_S,
        price_ratio=pl.col("price") / pl.col("median"),
        distance_km=pl.col("distance_km").cast(pl.Float64),
        text_match=pl.col("text_match").cast(pl.Float64),
    )
    label = pl.lit(0, pl.Int8)
    if inputs.orders is not None:
        bought = inputs.orders.select("search_id", "listing_id", "ordered_at")
        rows = rows.join(bought, on=["search_id", "listing_id"], how="left")
        won = pl.col("ordered_at").is_not_null() & (
            pl.col("ordered_at") < pl.col("shown_at") + LABEL_WINDOW
        )
        label = won.cast(pl.Int8)
    rows = rows.with_columns(label=label).unique(["search_id", "listing_id"], keep="first")
    groups = (
        rows.select("search_id", "request_at")
        .unique()
        .sort("request_at", "search_id")
        .with_row_index("group_id")
    )
    return (
        rows.join(groups.drop("request_at"), on="search_id")
        .sort("group_id", "search_position")
        .select(
            "group_id",
            "search_id",
            "searcher_id",
            "listing_id",
            "seller_id",
            "request_at",
            "served",
            "search_position",
            "label",
            *SEARCH_FEATURES,
        )
    )

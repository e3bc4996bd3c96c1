"""Buyers search before they buy: pages of ranked listings, orders that name their search."""

from __future__ import annotations

import polars as pl

from .conftest import Run


def _payload(events: pl.DataFrame, kind: str, fields: dict[str, pl.DataType]) -> pl.DataFrame:
    rows = events.filter(pl.col("et") == kind)
    decoded = rows.get_column("payload").str.json_decode(pl.Struct(fields))
    return rows.select(actor_id="actor", subject_id="subject").with_columns(p=decoded).unnest("p")


def test_searches_show_ranked_pages_and_orders_link_back_to_them(
    honest: Run, events: pl.DataFrame
) -> None:
    shown = _payload(
        events,
        "LISTING_SEARCHED",
        {
            "search_id": pl.String,
            "search_position": pl.Int64,
            "text_match": pl.Float64,
            "search_ranking": pl.String,
        },
    )
    pages = shown.group_by("search_id").agg(
        n=pl.len(),
        ranking=pl.col("search_ranking").first(),
        top=pl.col("search_position").max(),
        sorted=(pl.col("text_match").sort_by("search_position").diff().fill_null(0) <= 0).all(),
    )
    assert pages.height > 500
    # Positions 0..n-1 (a few pages of the last day are still in transit when the run ends).
    assert (pages["top"] == pages["n"] - 1).mean() > 0.99 and pages["n"].max() == 10
    served = pages.filter(pl.col("ranking") == "relevance")
    assert served["sorted"].all() and 0.1 < (pages["ranking"] == "shuffled").mean() < 0.3
    orders = _payload(
        events, "ORDER_PLACED", {"listing_id": pl.String, "search_id": pl.String}
    ).filter(pl.col("search_id").is_not_null())
    assert orders.height > 100
    linked = orders.join(
        shown.select("search_id", "actor_id", listing_id="subject_id"),
        on=["search_id", "actor_id", "listing_id"],
    )
    assert linked.height == orders.height  # each ordered listing was on the buyer's page
    users = pl.read_parquet(honest.truth / "users.parquet", columns=["user_id", "is_fraud"])
    listings = events.filter(pl.col("et") == "LISTING_CREATED").select(
        listing_id="subject", seller_id="actor"
    )
    sellers = shown.join(listings, left_on="subject_id", right_on="listing_id").join(
        users, left_on="seller_id", right_on="user_id"
    )
    assert sellers["is_fraud"].sum() > 0  # fraudulent sellers' listings reach the results

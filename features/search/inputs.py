"""Listing search's one reader of the lake: what was shown, ordered, listed, reviewed, disputed.

:func:`load_inputs` reads everything before a cut-off once; with ``labels_until`` the orders
go on to that time, so an impression shown just before the cut-off can still be labelled (the
orders are labels only, never features: seller sales are counted from ``sales``, cut at the
cut-off like every other feature input).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import polars as pl

from features.lake import EventSource, read_events, utc
from features.platform_graph.neighbourhood import flag_history


@dataclass(frozen=True)
class SearchInputs:
    shown: pl.DataFrame  # search_id, searcher_id, listing_id, shown_at, search_position, ...
    listings: pl.DataFrame  # listing_id, seller_id, created_at, category, price, currency, ...
    sales: pl.DataFrame  # seller_id, sold_at (every order placed, before the cut-off)
    reviews: pl.DataFrame  # reviewee_id, rating, reviewed_at
    disputes: pl.DataFrame  # seller_id, disputed_at
    users: pl.DataFrame  # user_id, registered_at
    flags: pl.DataFrame  # user_id, changed_at, flagged
    before: datetime
    # ORDER_PLACED from a search, up to labels_until: labels only (None: not read)
    orders: pl.DataFrame | None = None


def load_inputs(
    source: EventSource, *, before: datetime, labels_until: datetime | None = None
) -> SearchInputs:
    before = utc(before)
    orders = None
    if labels_until is not None:
        orders = read_events(
            source,
            {
                "search_id": "payload.search_id",
                "buyer_id": "actor_id",
                "listing_id": "payload.listing_id",
                "ordered_at": "occurred_at",
            },
            types=("ORDER_PLACED",),
            before=max(utc(labels_until), before),
            where="payload.search_id IS NOT NULL",
        )
    return SearchInputs(
        shown=read_events(
            source,
            {
                "search_id": "payload.search_id",
                "searcher_id": "actor_id",
                "listing_id": "subject_id",
                "shown_at": "occurred_at",
                "search_position": "payload.search_position",
                "text_match": "payload.text_match",
                "distance_km": "payload.distance_km",
                "served": "payload.search_ranking",
            },
            types=("LISTING_SEARCHED",),
            before=before,
        ).unique(["search_id", "listing_id"], keep="first", maintain_order=True),
        listings=read_events(
            source,
            {
                "listing_id": "subject_id",
                "seller_id": "actor_id",
                "created_at": "occurred_at",
                "category": "payload.category",
                "price": "CAST(payload.price AS DOUBLE)",
                "currency": "payload.currency",
                "item_new": "CAST(payload.item_condition = 'new' AS DOUBLE)",
            },
            types=("LISTING_CREATED",),
            before=before,
        ).unique("listing_id", keep="first"),
        sales=read_events(
            source,
            {"seller_id": "payload.seller_id", "sold_at": "occurred_at"},
            types=("ORDER_PLACED",),
            before=before,
        ),
        reviews=read_events(
            source,
            {
                "reviewee_id": "payload.reviewee_id",
                "rating": "payload.rating",
                "reviewed_at": "occurred_at",
            },
            types=("REVIEW_POSTED",),
            before=before,
        ),
        disputes=read_events(
            source,
            {"seller_id": "payload.seller_id", "disputed_at": "occurred_at"},
            types=("DISPUTE_OPENED",),
            before=before,
        ),
        users=read_events(
            source,
            {"user_id": "subject_id", "registered_at": "min(occurred_at)"},
            types=("USER_REGISTERED",),
            before=before,
            group_by=("user_id",),
        ),
        flags=flag_history(source, before=before, statuses=("banned",)),
        before=before,
        orders=orders,
    )

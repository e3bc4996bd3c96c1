"""A hand-made marketplace: two sellers, one searcher, one search of day T0 + 1 with an order.

``honest`` registered long ago, has a 5-star review and a sale; ``shady`` registered a day
before, has a dispute, and is banned before the search day.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import polars as pl
import pytest

from features.search import LABEL_WINDOW, load_inputs, search_groups, seller_table
from tests.features.platform_graph.pgraph_lakes import T0, D, H, M, ev, register, uid, write_lake

DAY1 = T0.replace(hour=0) + D  # the search day (00:00)
SEARCH = "search-1"


def _listing(name: str, seller: str, at, price: str) -> bytes:
    return ev(
        "LISTING_CREATED",
        at,
        by=seller,
        on=name,
        category="tools",
        price=price,
        currency="EUR",
        item_condition="new",
        lat=52.5,
        lon=13.4,
    )


def _shown(name: str, position: int, at, match: float) -> bytes:
    return ev(
        "LISTING_SEARCHED",
        at,
        by="buyer",
        on=name,
        search_id=uid(SEARCH),
        search_position=position,
        text_match=match,
        search_ranking="relevance",
        query_length=5,
        distance_km=1.5,
    )


@pytest.fixture
def lake(tmp_path: Path) -> Path:
    lines = [
        register("honest", T0 - 60 * D),
        register("shady", T0 - D),
        register("buyer", T0 - 10 * D),
        _listing("l-honest", "honest", T0 - 2 * D, "10.00"),
        _listing("l-shady", "shady", T0 - H, "4.00"),
        _listing("l-other", "honest", T0 - 3 * D, "30.00"),
        ev(
            "ORDER_PLACED",
            T0 - D,
            by="buyer",
            on="o-1",
            listing_id=uid("l-other"),
            amount="30.00",
            currency="EUR",
            quantity=1,
            seller_id=uid("honest"),
        ),
        ev("REVIEW_POSTED", T0 - 12 * H, by="buyer", on="o-1", reviewee_id=uid("honest"), rating=5),
        ev(
            "DISPUTE_OPENED",
            T0 - 2 * H,
            by="buyer",
            on="o-2",
            dispute_reason="other",
            amount="4.00",
            currency="EUR",
            seller_id=uid("shady"),
        ),
        ev(
            "ACCOUNT_STATUS_CHANGED",
            T0,
            by="admin",
            on="shady",
            account_status="banned",
            reason_code="fraud",
        ),
        _shown("l-shady", 0, DAY1 + 10 * H, 1.0),
        _shown("l-honest", 1, DAY1 + 10 * H, 0.5),
        ev(
            "ORDER_PLACED",
            DAY1 + 10 * H + 2 * M,
            by="buyer",
            on="o-3",
            listing_id=uid("l-honest"),
            amount="10.00",
            currency="EUR",
            quantity=1,
            seller_id=uid("honest"),
            search_id=uid(SEARCH),
        ),
    ]
    return write_lake(tmp_path, lines)


def test_seller_table_counts_what_happened_before_the_snapshot(lake: Path) -> None:
    inputs = load_inputs(lake, before=DAY1 + D)
    trust = pl.DataFrame(
        {"user_id": [uid("honest")], "snapshot_at": [DAY1 - H], "trust": [0.8]},
        schema_overrides={"snapshot_at": pl.Datetime("us", "UTC")},
    )
    table = seller_table(inputs, at=DAY1, trust=trust).sort("seller_id")
    rows = {r["seller_id"]: r for r in table.iter_rows(named=True)}
    honest, shady = rows[uid("honest")], rows[uid("shady")]
    assert (honest["seller_reviews"], honest["seller_rating"], honest["seller_sales"]) == (1, 5, 1)
    assert (honest["seller_trust"], honest["seller_flagged"], honest["seller_listings"]) == (
        0.8,
        0.0,
        2.0,
    )
    assert shady["seller_disputes"] == 1 and shady["seller_flagged"] == 1.0
    assert shady["seller_trust"] is None and shady["seller_fraud_risk"] is None


def test_search_groups_label_the_ordered_listing_and_never_see_the_order_as_a_feature(
    lake: Path,
) -> None:
    end = DAY1 + D
    inputs = load_inputs(lake, before=end, labels_until=end + LABEL_WINDOW)
    groups = search_groups(inputs, start=DAY1)
    assert groups.get_column("listing_id").to_list() == [uid("l-shady"), uid("l-honest")]
    assert groups.get_column("label").to_list() == [0, 1]
    honest = groups.row(1, named=True)
    # The search day's own order is not a sale yet: seller features are as of 00:00 that day.
    assert honest["seller_sales"] == 1 and honest["text_match"] == 0.5
    assert honest["listing_age_days"] == pytest.approx(
        (DAY1 + 10 * H - (T0 - 2 * D)) / timedelta(days=1)
    )
    # Medians of the 30 days before the day, per category and currency: 4, 10, 30 -> 10.
    assert honest["price_ratio"] == 1.0 and groups.row(0, named=True)["price_ratio"] == 0.4
    unlabelled = search_groups(load_inputs(lake, before=end), start=DAY1)
    assert unlabelled.get_column("label").to_list() == [0, 0]

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import lightgbm as lgb
import numpy as np
import polars as pl
import pytest
from fastapi.testclient import TestClient

from core_api.db.identity import User
from core_api.db.market import Listing
from serving.search import publish
from tests.core_api.routers.helpers import events, signed_in
from tests.core_api.routers.money_helpers import fund, trusted

BERLIN = (52.52, 13.405)


@pytest.fixture(autouse=True)
def _no_exploration(any_api: TestClient) -> None:
    """Orders are asserted here: no first page is shuffled unless a test asks for it."""
    any_api.app.state.services.settings.search_explore_share = 0.0


def _listing(api: TestClient, seller_id: str, title: str, **extra: Any) -> str:
    row = {
        "seller_id": seller_id,
        "title": title,
        "description": extra.pop("description", ""),
        "category": "sports",
        "item_condition": "used",
        "price": Decimal("20"),
        "currency": "EUR",
        "quantity": 1,
        "lat": BERLIN[0],
        "lon": BERLIN[1],
        "status": "active",
        **extra,
    }
    with api.app.state.services.sessions() as s:
        listing = Listing(**row)
        s.add(listing)
        s.commit()
        return listing.id


def _search(api: TestClient, headers: dict[str, str], **params: Any) -> Any:
    return api.get("/marketplace/search", params=params, headers=headers)


def test_search_filters_ranks_by_relevance_and_records_what_it_showed(any_api: TestClient) -> None:
    seller, _ = signed_in(any_api)
    _me, headers = signed_in(any_api)
    both = _listing(any_api, seller["id"], "Red road bike", description="carbon")
    title = _listing(any_api, seller["id"], "Road helmet", description="for any bike")
    desc = _listing(any_api, seller["id"], "Helmet", description="fits road use")
    _listing(any_api, seller["id"], "Road shoes", price=Decimal("500"))
    _listing(any_api, seller["id"], "Road bike far away", lat=48.85, lon=2.35)
    _listing(any_api, seller["id"], "Road book", category="books")
    page = _search(
        any_api,
        headers,
        q="road bike",
        category="sports",
        max_price="100",
        lat=BERLIN[0],
        lon=BERLIN[1],
        radius_km=50,
    )
    assert page.status_code == 200, page.text
    body = page.json()
    assert body["ranking"] == "relevance" and body["model_version"] is None
    assert [h["id"] for h in body["items"]] == [both, title, desc]
    assert [h["text_match"] for h in body["items"]] == [1.0, 0.75, 0.25]
    assert body["items"][0]["distance_km"] == 0.0 and body["next_offset"] is None
    shown = [json.loads(e.line) for e in events(any_api, "LISTING_SEARCHED")]
    assert [(p["subject_id"], p["payload"]["search_position"]) for p in shown] == [
        (both, 0),
        (title, 1),
        (desc, 2),
    ]
    assert {p["payload"]["search_id"] for p in shown} == {body["search_id"]}
    assert shown[0]["payload"]["max_price"] == "100.0000"


def test_search_pages_and_sorts_newest(any_api: TestClient) -> None:
    seller, _ = signed_in(any_api)
    _me, headers = signed_in(any_api)
    now = datetime.now(UTC)
    ids = [
        _listing(any_api, seller["id"], f"Ball {i}", created_at=now - timedelta(hours=i))
        for i in range(3)
    ]
    first = _search(any_api, headers, q="ball", sort="newest", limit=2).json()
    assert first["ranking"] == "newest" and [h["id"] for h in first["items"]] == ids[:2]
    assert first["next_offset"] == 2
    second = _search(any_api, headers, q="ball", sort="newest", limit=2, offset=2).json()
    assert [h["id"] for h in second["items"]] == ids[2:] and second["items"][0]["position"] == 2


def test_search_hides_inactive_listings_own_listings_and_inactive_sellers(
    any_api: TestClient,
) -> None:
    seller, _ = signed_in(any_api)
    banned, _ = signed_in(any_api)
    me, headers = signed_in(any_api)
    shown = _listing(any_api, seller["id"], "Lamp")
    _listing(any_api, seller["id"], "Lamp withdrawn", status="withdrawn")
    _listing(any_api, seller["id"], "Lamp sold", status="sold_out")
    _listing(any_api, me["id"], "My lamp")
    _listing(any_api, banned["id"], "Banned lamp")
    with any_api.app.state.services.sessions() as s:
        s.get(User, banned["id"]).status = "banned"
        s.commit()
    items = _search(any_api, headers, q="lamp").json()["items"]
    assert [h["id"] for h in items] == [shown]


def test_search_refuses_bad_input_with_4xx(any_api: TestClient) -> None:
    _me, headers = signed_in(any_api)
    for params in (
        {"lat": 10},
        {"radius_km": 5},
        {"lat": 100, "lon": 0},
        {"min_price": "10", "max_price": "5"},
        {"min_price": "-1"},
        {"category": "spaceships"},
        {"limit": 0},
        {"limit": 51},
        {"offset": 10_000},
        {"sort": "cheapest"},
        {"q": "x" * 201},
        {"lat": "nan", "lon": 0},
        {"currency": "XXX"},
    ):
        assert _search(any_api, headers, **params).status_code == 422, params
    assert any_api.get("/marketplace/search").status_code == 401


def test_order_links_back_to_the_buyers_own_search_only(any_api: TestClient) -> None:
    seller, _ = signed_in(any_api)
    _buyer, b_headers = trusted(any_api)
    _other, o_headers = signed_in(any_api)
    listing = _listing(any_api, seller["id"], "Tent", quantity=3)
    mine = _search(any_api, b_headers, q="tent").json()["search_id"]
    theirs = _search(any_api, o_headers, q="tent").json()["search_id"]
    fund(any_api, b_headers, "100")
    order = {"listing_id": listing, "search_id": theirs}
    refused = any_api.post("/marketplace/orders", json=order, headers=b_headers)
    assert refused.status_code == 404 and refused.json()["detail"]["reason"] == "no_such_search"
    placed = any_api.post(
        "/marketplace/orders", json={**order, "search_id": mine}, headers=b_headers
    )
    assert placed.status_code == 201, placed.text
    payload = json.loads(events(any_api, "ORDER_PLACED")[-1].line)["payload"]
    assert payload["search_id"] == mine and payload["listing_id"] == listing


def _release(root: Any, *, seller_ids: dict[str, dict[str, float]]) -> None:
    """A tiny real release: a booster that learnt 'newer is better' on two features."""
    rng = np.random.default_rng(0)
    x = rng.random((200, 2))
    y = (x[:, 1] < 0.5).astype(int)
    data = lgb.Dataset(x, label=y, group=[10] * 20, feature_name=["text_match", "listing_age_days"])
    booster = lgb.train(
        {"objective": "lambdarank", "verbosity": -1, "min_data_in_leaf": 5}, data, 10
    )
    sellers = pl.DataFrame(
        [{"seller_id": k, **v} for k, v in seller_ids.items()],
        schema={"seller_id": pl.String, "seller_flagged": pl.Float64, "seller_trust": pl.Float64},
    )
    publish(
        root,
        version="7",
        model_text=booster.model_to_string(),
        meta={
            "features": ["text_match", "listing_age_days"],
            "medians": [{"category": "sports", "currency": "EUR", "median": 20.0}],
            "policy": {"min_trust": 0.05, "max_fraud_risk": 0.5, "demotion": -2.3},
        },
        sellers=sellers,
    )


def test_search_ranks_with_the_released_model_and_drops_flagged_sellers(
    any_api: TestClient,
) -> None:
    seller, _ = signed_in(any_api)
    flagged, _ = signed_in(any_api)
    _me, headers = signed_in(any_api)
    now = datetime.now(UTC)
    kept = [
        _listing(any_api, seller["id"], f"Kite {i}", created_at=now - timedelta(days=i))
        for i in range(3)
    ]
    _listing(any_api, flagged["id"], "Kite scam")
    root = any_api.app.state.services.settings.search_ranker
    _release(root, seller_ids={flagged["id"]: {"seller_flagged": 1.0, "seller_trust": 0.0}})
    body = _search(any_api, headers, q="kite").json()
    assert body["ranking"] == "model" and body["model_version"] == "7"
    assert sorted(h["id"] for h in body["items"]) == sorted(kept)
    (root / "v7" / "model.txt").write_text("not a model")
    root.joinpath("current.json").write_text(json.dumps({"version": "8", "folder": "v7"}))
    fallback = _search(any_api, headers, q="kite")
    assert fallback.status_code == 200 and fallback.json()["ranking"] == "relevance"


def test_exploration_shuffles_the_first_page_and_says_so(any_api: TestClient) -> None:
    seller, _ = signed_in(any_api)
    _me, headers = signed_in(any_api)
    ids = {_listing(any_api, seller["id"], f"Drum {i}") for i in range(4)}
    any_api.app.state.services.settings.search_explore_share = 1.0
    first = _search(any_api, headers, q="drum", limit=10).json()
    assert first["ranking"] == "shuffled" and {h["id"] for h in first["items"]} == ids
    assert _search(any_api, headers, q="drum", offset=2).json()["ranking"] == "relevance"
    assert _search(any_api, headers, q="drum", sort="newest").json()["ranking"] == "newest"
    shown = [json.loads(e.line)["payload"] for e in events(any_api, "LISTING_SEARCHED")]
    assert shown[0]["search_ranking"] == "shuffled"

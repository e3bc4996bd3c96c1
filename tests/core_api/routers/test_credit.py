"""Credit: my limit and its reasons, and early escrow release within it (SQLite, PostgreSQL,
the real Redis), failing closed when the online store cannot answer."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import polars as pl
import pytest
import redis
from fastapi.testclient import TestClient
from sqlalchemy import select

from core_api.app import create_app
from core_api.db.money import LedgerTransaction
from serving.publish import publish
from settings import Settings
from tests.conftest import require_server
from tests.core_api.routers.helpers import events, signed_in
from tests.core_api.routers.money_helpers import (
    assert_ledger_consistent,
    balance,
    fund,
    key,
    trusted,
)

LISTING = {
    "title": "Desk lamp",
    "category": "home",
    "item_condition": "new",
    "price": "100.00",
    "currency": "EUR",
    "quantity": 5,
    "lat": 48.85,
    "lon": 2.35,
}
REASONS = ["limit lowered: 1 dispute lost in 90 days", "lent against 4 completed sales"]
REDIS_URL = "redis://127.0.0.1:6379/11"  # a database of its own: the test flushes it


def _publish(api: TestClient, limits: dict[str, str | None]) -> None:
    """Scores with credit limits, as ``published_scores`` writes them, into the app's store."""
    n = len(limits)
    scores = pl.DataFrame(
        {
            "user_id": list(limits),
            "trust": [0.8] * n,
            "fraud_risk": [0.01] * n,
            "band": ["low"] * n,
            "confirmed_fraud": [False] * n,
            "reasons": [[] for _ in range(n)],
            "model_version": "vouch-fraud/1",
            "scored_at": pl.Series([datetime.now(UTC)] * n, dtype=pl.Datetime("us", "UTC")),
            "credit_limit": pl.Series(
                [Decimal(v) if v else None for v in limits.values()], dtype=pl.Decimal(18, 2)
            ),
            "credit_currency": ["EUR" if v else None for v in limits.values()],
            "credit_reasons": [REASONS if v else [] for v in limits.values()],
        },
        schema_overrides={"reasons": pl.List(pl.String), "credit_reasons": pl.List(pl.String)},
    )
    publish(api.app.state.services.store, scores, snapshot="2026-12-06")


def _paid_order(api: TestClient, s_headers: dict, b_headers: dict) -> dict[str, Any]:
    listing = api.post("/marketplace/listings", json=LISTING, headers=s_headers).json()
    body = {"listing_id": listing["id"], "quantity": 1}
    order = api.post("/marketplace/orders", json=body, headers=b_headers).json()
    paid = api.post(f"/marketplace/orders/{order['id']}/pay", headers={**b_headers, **key()})
    assert paid.status_code == 200, paid.text
    return order


def _release(api: TestClient, order_id: str, headers: dict) -> Any:
    return api.post(f"/marketplace/orders/{order_id}/release-early", headers={**headers, **key()})


def _flow(api: TestClient) -> None:
    seller, hs = trusted(api)
    buyer, hb = trusted(api)
    fund(api, hb, "500.00")
    first, second = _paid_order(api, hs, hb), _paid_order(api, hs, hb)
    nothing = api.get("/identity/me/credit", headers=hs)
    assert nothing.status_code == 200, nothing.text
    assert Decimal(nothing.json()["limit"]) == 0 == Decimal(nothing.json()["available"])
    assert _release(api, first["id"], hs).json()["detail"]["reason"] == "no_credit_limit"

    _publish(api, {seller["id"]: "150.00", buyer["id"]: None})
    mine = api.get("/identity/me/credit", headers=hs).json()
    assert (mine["limit"], mine["currency"], mine["reasons"]) == ("150.00", "EUR", REASONS)
    assert Decimal(mine["available"]) == Decimal(150) and mine["score_version"]

    done = _release(api, first["id"], hs)
    assert done.status_code == 200, done.text
    assert Decimal(done.json()["credit"]["available"]) == Decimal(50)
    assert balance(api, seller["id"]) == Decimal(100)
    released = [json.loads(e.line)["payload"] for e in events(api, "ESCROW_RELEASED")]
    assert released == [{"amount": "100.0000", "currency": "EUR", "seller_id": seller["id"]}]
    escrow = api.get(f"/marketplace/orders/{first['id']}/escrow", headers=hs).json()
    assert escrow["status"] == "released"  # the escrows table follows the early release
    again = _release(api, first["id"], hs)
    assert (again.status_code, again.json()["detail"]["reason"]) == (409, "already_released")
    over = _release(api, second["id"], hs)
    assert over.status_code == 403
    assert over.json()["detail"] == {
        "reason": "credit_limit_exceeded",
        "available": "50.0000",
        "currency": "EUR",
    }
    assert _release(api, second["id"], hb).json()["detail"]["reason"] == "not_your_step"
    _stranger, hx = signed_in(api)
    assert _release(api, second["id"], hx).status_code == 404

    # Delivery moves no more money, and frees the limit.
    shipped = api.post(f"/marketplace/orders/{first['id']}/ship", headers=hs)
    assert shipped.status_code == 200
    delivered = api.post(f"/marketplace/orders/{first['id']}/deliver", headers={**hb, **key()})
    assert delivered.status_code == 200, delivered.text
    assert balance(api, seller["id"]) == Decimal(100)
    assert len(events(api, "ESCROW_RELEASED")) == 1
    assert Decimal(api.get("/identity/me/credit", headers=hs).json()["available"]) == 150

    # A refund after an early release: back from the seller, the rest from the platform.
    assert _release(api, second["id"], hs).status_code == 200
    moved = {"to_user_id": buyer["id"], "amount": "150.00", "currency": "EUR"}
    sent = api.post("/payments/transfers", json=moved, headers={**hs, **key()})
    assert sent.status_code == 201, sent.text
    body = {"dispute_reason": "not_received"}
    assert api.post(f"/marketplace/orders/{second['id']}/dispute", json=body, headers=hb).is_success
    conceded = api.post(
        f"/marketplace/orders/{second['id']}/resolve",
        json={"outcome": "concede"},
        headers={**hs, **key()},
    )
    assert conceded.status_code == 200, conceded.text
    assert balance(api, seller["id"]) == 0 and balance(api, buyer["id"]) == Decimal(550)
    with api.app.state.services.sessions() as s:
        loss = s.scalars(
            select(LedgerTransaction.amount).where(LedgerTransaction.reference == "credit_loss")
        ).all()
    assert loss == [Decimal(50)]
    assert_ledger_consistent(api)
    unscored = api.get("/identity/me/credit", headers=hb).json()
    assert Decimal(unscored["limit"]) == 0 and unscored["reasons"] == [
        "no credit limit published yet"
    ]


def test_early_release_within_the_limit(any_api: TestClient) -> None:
    _flow(any_api)


@pytest.fixture
def redis_api(tmp_path: Path) -> Iterator[TestClient]:
    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=0.5).ping()
    except redis.RedisError as exc:
        require_server("Redis", False, str(exc))
    client = redis.Redis.from_url(REDIS_URL)
    client.flushdb()
    settings = Settings(data_dir=tmp_path, database_url=None, redis_url=REDIS_URL)
    try:
        with TestClient(create_app(settings, relay_every_s=None)) as api:
            yield api
    finally:
        client.flushdb()
        client.close()


@pytest.mark.integration
def test_early_release_within_the_limit_on_redis(redis_api: TestClient) -> None:
    _flow(redis_api)


def test_credit_fails_closed_without_the_store(tmp_path: Path) -> None:
    # Port 1 on loopback: nothing listens, so the online store refuses every read at once.
    settings = Settings(data_dir=tmp_path, database_url=None, redis_url="redis://127.0.0.1:1/0")
    with TestClient(create_app(settings, relay_every_s=None)) as api:
        _seller, hs = trusted(api)
        _buyer, hb = trusted(api)
        fund(api, hb, "100.00")
        order = _paid_order(api, hs, hb)
        mine = api.get("/identity/me/credit", headers=hs)
        released = _release(api, order["id"], hs)
        escrow_kept = api.get(f"/marketplace/orders/{order['id']}", headers=hs).json()
    assert (mine.status_code, mine.json()["detail"]["reason"]) == (503, "credit_unavailable")
    assert released.status_code == 503
    assert released.json()["detail"]["reason"] == "credit_unavailable"
    assert escrow_kept["status"] == "paid"

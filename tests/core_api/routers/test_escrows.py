"""The escrow record beside the escrow wallet: held on payment, then released or refunded."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.core_api.routers.helpers import signed_in
from tests.core_api.routers.money_helpers import fund, key, trusted

LISTING = {
    "title": "Kettle",
    "category": "home",
    "item_condition": "new",
    "price": "10",
    "currency": "EUR",
    "quantity": 5,
    "lat": 48.1,
    "lon": 11.6,
}


def test_escrow_is_held_then_released_or_refunded(any_api: TestClient) -> None:
    _seller, hs = trusted(any_api)
    _buyer, hb = trusted(any_api)
    _stranger, hx = signed_in(any_api)
    listing = any_api.post("/marketplace/listings", json=LISTING, headers=hs).json()["id"]
    fund(any_api, hb, "30")
    orders = [
        any_api.post("/marketplace/orders", json={"listing_id": listing}, headers=hb).json()["id"]
        for _ in range(2)
    ]
    url = [f"/marketplace/orders/{o}/escrow" for o in orders]
    assert any_api.get(url[0], headers=hb).json()["detail"]["reason"] == "no_escrow"  # unpaid
    for order in orders:
        paid = any_api.post(f"/marketplace/orders/{order}/pay", headers={**hb, **key()})
        assert paid.status_code == 200, paid.text
    held = any_api.get(url[0], headers=hs).json()
    assert (held["status"], held["amount"], held["currency"]) == ("held", "10.0000", "EUR")
    assert held["settled_at"] is None
    step = f"/marketplace/orders/{orders[0]}"
    assert any_api.post(f"{step}/ship", headers=hs).status_code == 200
    assert any_api.post(f"{step}/deliver", headers={**hb, **key()}).status_code == 200
    disputed = any_api.post(
        f"/marketplace/orders/{orders[1]}/dispute",
        json={"dispute_reason": "not_received"},
        headers=hb,
    )
    assert disputed.status_code == 200
    conceded = any_api.post(
        f"/marketplace/orders/{orders[1]}/resolve",
        json={"outcome": "concede"},
        headers={**hs, **key()},
    )
    assert conceded.status_code == 200, conceded.text
    released, refunded = (any_api.get(u, headers=hb).json() for u in url)
    assert (released["status"], refunded["status"]) == ("released", "refunded")
    assert released["settled_at"] is not None
    # Only the order's two parties see its escrow; anyone else is told it does not exist.
    assert any_api.get(url[0], headers=hx).status_code == 404

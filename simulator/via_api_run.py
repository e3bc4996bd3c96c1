"""The critical half of the via-API scenario (trust, listings, orders, transfers, payouts) and
the runner that plays the whole scenario and summarises it as JSON."""

from __future__ import annotations

import random
from typing import Any

import httpx2 as httpx

from core_api.events import LISTING_CATEGORIES
from simulator.via_api import (
    Account,
    Api,
    Inbox,
    Platform,
    cast,
    fund,
    sign_up,
    socialise,
)


def trade(api: Api, platform: Platform, rng: random.Random) -> None:
    """Critical actions, each asking the decision function. Normal users connect, list, buy
    (pay, ship, deliver) and pay each other back; the ring fans money in to its first account,
    which then cashes out. Refusals are tallied, not raised: they are part of the story."""
    normal, ring = platform.normal, platform.ring
    for i, who in enumerate(normal):
        friend = normal[(i + 1) % len(normal)]
        if friend is not who:
            api.critical(
                "PUT",
                "/identity/trust/connect",
                who,
                body={"user_id": friend.id, "edge_type": "friend", "weight": 0.8},
            )
    for who in normal[::2]:
        listed = api.critical(
            "POST",
            "/marketplace/listings",
            who,
            body={
                "title": f"used bike from {who.device}",
                "category": rng.choice(LISTING_CATEGORIES),
                "item_condition": "used",
                "price": "25.00",
                "currency": "EUR",
                "lat": 48.85,
                "lon": 2.35,
                "ships_from": "FR",
            },
        )
        if listed.status_code == 201:
            platform.listings.append((who, listed.json()["id"]))
    for i, (seller, listing_id) in enumerate(platform.listings):
        buyer = normal[(normal.index(seller) + 1 + i) % len(normal)]
        if buyer is not seller and _buy(api, buyer, seller, listing_id):
            platform.orders_delivered += 1
    for i, who in enumerate(normal):
        to = normal[(i + 2) % len(normal)]
        if to is not who and _send(api, who, to, "12.50"):
            platform.transfers["normal"] += 1
    _subscribe(api, platform)
    mule = ring[0]
    for who in ring[1:]:
        if _send(api, who, mule, "30.00"):
            platform.transfers["ring"] += 1
    api.critical(
        "POST",
        "/payments/payouts",
        mule,
        keyed=True,
        body={"amount": "100.00", "currency": "EUR", "destination_id": "iban_mule_1"},
    )


def _subscribe(api: Api, platform: Platform) -> None:
    """The first normal user offers a weekly plan (gated like a listing); the others subscribe,
    and so does every ring account (the trust gate answers them)."""
    seller = platform.normal[0]
    body = {"name": f"club of {seller.device}", "price": "4.00", "currency": "EUR"}
    offered = api.critical(
        "POST", "/subscriptions/plans", seller, body={**body, "interval": "week"}
    )
    if offered.status_code != 201:
        return
    plan = {"plan_id": offered.json()["id"]}
    for who in [*platform.normal[1:], *platform.ring]:
        started = api.critical("POST", "/subscriptions", who, body=plan, keyed=True)
        if started.status_code == 201:
            platform.subscriptions["ring" if who.ring else "normal"] += 1


def _send(api: Api, who: Account, to: Account, amount: str) -> bool:
    body = {"to_user_id": to.id, "amount": amount, "currency": "EUR"}
    sent = api.critical("POST", "/payments/transfers", who, body=body, keyed=True)
    return sent.status_code == 201


def _buy(api: Api, buyer: Account, seller: Account, listing_id: str) -> bool:
    # Buyers search first; an order of a listing the page showed names the search.
    found = api.call("GET", "/marketplace/search?q=used+bike&limit=50", buyer)
    shown = found.json()["items"] if found.status_code == 200 else []
    body = {"listing_id": listing_id}
    if any(hit["id"] == listing_id for hit in shown):
        body["search_id"] = found.json()["search_id"]
    placed = api.critical("POST", "/marketplace/orders", buyer, body=body)
    if placed.status_code != 201:
        return False
    order = f"/marketplace/orders/{placed.json()['id']}"
    # Pay into escrow, ship, and confirm delivery (escrow release: critical, so it may step up).
    return (
        api.call("POST", f"{order}/pay", buyer, keyed=True).status_code == 200
        and api.call("POST", f"{order}/ship", seller).status_code == 200
        and api.critical("POST", f"{order}/deliver", buyer, keyed=True).status_code == 200
    )


def run_scenario(
    client: httpx.Client, *, users: int = 12, seed: int = 7, inbox: Inbox | None = None
) -> tuple[Platform, dict[str, Any]]:
    """Play the scenario against ``client`` (its base URL is the API); same seed, same requests
    (ids and tokens aside). Returns the cast (with ids and tokens) and the JSON summary."""
    rng = random.Random(seed)
    api = Api(client, inbox=inbox)
    platform = cast(users, seed=seed)
    for who in platform.everyone:
        sign_up(api, who)
    platform.normal = [a for a in platform.normal if a.token]
    platform.ring = [a for a in platform.ring if a.token]
    if len(platform.normal) < 2 or not platform.ring:
        return platform, summarise(api, platform, client=client)
    socialise(api, platform, rng)
    fund(api, platform)
    trade(api, platform, rng)
    return platform, summarise(api, platform, client=client)


def summarise(api: Api, platform: Platform, *, client: httpx.Client) -> dict[str, Any]:
    return {
        "api": str(client.base_url),
        "users": len(platform.normal),
        "ring": len(platform.ring),
        "verified": sum(a.verified for a in platform.everyone),
        "requests": sum(api.statuses.values()),
        "by_status": {str(k): n for k, n in sorted(api.statuses.items())},
        "refused": dict(sorted(api.refusals.items())),
        "posts": len(platform.posts),
        "listings": len(platform.listings),
        "orders_delivered": platform.orders_delivered,
        "transfers": dict(platform.transfers),
        "subscriptions": dict(platform.subscriptions),
    }

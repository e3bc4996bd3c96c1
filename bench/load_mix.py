"""The load bench's world and mix: seeded users and listings, and one request of each route.

See ``bench.load`` for how the mix is driven.
"""

from __future__ import annotations

import random
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from bench.apiserver import Conn, User, deposit, new_users, sign_up

MIX = {
    "GET /identity/me": 25,
    "GET /social/feed": 15,
    "GET /payments/wallets": 10,
    "GET /marketplace/listings": 10,
    "POST /social/posts": 10,
    "PUT /social/follows": 10,
    "POST /marketplace/orders": 8,
    "POST /payments/transfers": 12,
}
WANT = {
    "POST /social/posts": (201,),
    "PUT /social/follows": (200, 201),
    "POST /marketplace/orders": (201,),
    "POST /payments/transfers": (201,),
}


@dataclass
class World:
    users: list[User]
    listings: list[tuple[str, str]]  # (listing id, seller id)


# --- set-up ---------------------------------------------------------------------------------
def seed(port: int, *, users: int, threads: int) -> World:
    tag = f"load-{uuid.uuid4().hex[:6]}"
    cast = new_users(users, tag=tag)

    def join(user: User) -> User:
        conn = Conn(port)
        try:
            sign_up(conn, user)
            deposit(conn, user, "1000000")
            return user
        finally:
            conn.close()

    with ThreadPoolExecutor(threads) as pool:
        cast = list(pool.map(join, cast))
    return World(users=cast, listings=[])


def list_items(port: int, world: World) -> None:
    """A quarter of the users list one item each (10,000 in stock); needs published scores."""
    conn = Conn(port)
    try:
        for i, user in enumerate(world.users[: max(2, len(world.users) // 4)]):
            body = {
                "title": f"item {i}",
                "category": "electronics",
                "item_condition": "new",
                "price": "2.50",
                "currency": "EUR",
                "quantity": 10_000,
                "lat": 48.85,
                "lon": 2.35,
            }
            listing = conn.json("POST", "/marketplace/listings", body=body, headers=user.headers)
            world.listings.append((listing["id"], user.id))
    finally:
        conn.close()


# --- the mix --------------------------------------------------------------------------------
def request_for(route: str, world: World, rng: random.Random) -> tuple[str, str, Any, User]:
    """(method, path, json body, acting user) of one request of ``route``."""
    me = rng.choice(world.users)
    other = rng.choice(world.users)
    while other is me:
        other = rng.choice(world.users)
    if route == "GET /social/feed":
        return "GET", "/social/feed?limit=20", None, me
    if route == "GET /marketplace/listings":
        return "GET", "/marketplace/listings?limit=20", None, me
    if route == "POST /social/posts":
        body = {"body": f"load post {rng.random():.6f}", "topic": "tech"}
        return "POST", "/social/posts", body, me
    if route == "PUT /social/follows":
        return "PUT", f"/social/follows/{other.id}", None, me
    if route == "POST /marketplace/orders":
        listing, seller = rng.choice(world.listings)
        while seller == me.id:
            listing, seller = rng.choice(world.listings)
        return "POST", "/marketplace/orders", {"listing_id": listing, "quantity": 1}, me
    if route == "POST /payments/transfers":
        body = {"to_user_id": other.id, "amount": "1.00", "currency": "EUR"}
        return "POST", "/payments/transfers", body, me
    method, path = route.split(" ", 1)
    return method, path, None, me

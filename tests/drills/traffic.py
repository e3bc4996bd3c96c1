"""Traffic for the Redis drills: a cast of users, one round of each kind of request, what each
answered and how long it took, and the wait for answers to be normal again."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import polars as pl
from fastapi.testclient import TestClient

from serving.publish import publish
from serving.store import RedisStore
from tests.core_api.routers.helpers import signed_in
from tests.core_api.routers.money_helpers import fund, key, trusted

H = dict[str, str]


@dataclass
class Seen:
    action: str
    started: float
    status: int
    body: dict[str, Any]
    challenge: str = ""
    took: float = 0.0


@dataclass
class Cast:
    author: H
    reader: H
    payer: H  # scored, no second factor
    mfa_payer: H  # a fresh second factor
    recipient_id: str
    author_id: str
    post_id: str
    seen: list[Seen] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)


def call(api: TestClient, cast: Cast, action: str, method: str, url: str, **kw: Any) -> Seen:
    started = time.monotonic()
    response = api.request(method, url, **kw)
    try:
        body = response.json() if response.content else {}
    except ValueError:  # a 500's plain-text body
        body = {"text": response.text}
    challenge = response.headers.get("WWW-Authenticate", "")
    seen = Seen(action, started, response.status_code, body, challenge, time.monotonic() - started)
    with cast.lock:
        cast.seen.append(seen)
    return seen


def transfer(api: TestClient, cast: Cast, who: str) -> Seen:
    body = {"to_user_id": cast.recipient_id, "amount": "0.01", "currency": "EUR"}
    headers = {**getattr(cast, who), **key()}
    return call(
        api, cast, f"transfer:{who}", "POST", "/payments/transfers", json=body, headers=headers
    )


def feed(api: TestClient, cast: Cast, **params: Any) -> Seen:
    return call(api, cast, "feed", "GET", "/social/feed", params=params, headers=cast.reader)


def one_round(api: TestClient, cast: Cast) -> None:
    """One of each: the low-risk actions, a feed read, the two transfers."""
    call(api, cast, "follow", "PUT", f"/social/follows/{cast.author_id}", headers=cast.reader)
    call(
        api,
        cast,
        "comment",
        "POST",
        f"/social/posts/{cast.post_id}/comments",
        json={"body": "still here"},
        headers=cast.reader,
    )
    call(
        api,
        cast,
        "profile",
        "PATCH",
        "/identity/profile",
        json={"bio": uuid.uuid4().hex},
        headers=cast.reader,
    )
    feed(api, cast)
    transfer(api, cast, "payer")
    transfer(api, cast, "mfa_payer")


def post(api: TestClient, headers: H, body: str, visibility: str = "public") -> str:
    made = api.post(
        "/social/posts",
        json={"body": body, "topic": "tech", "visibility": visibility},
        headers=headers,
    )
    assert made.status_code == 201, made.text
    return made.json()["id"]


def publish_scores(url: str, user_ids: list[str]) -> str:
    now = datetime.now(UTC)
    frame = pl.DataFrame(
        {
            "user_id": user_ids,
            "trust": [0.9] * len(user_ids),
            "fraud_risk": [0.01] * len(user_ids),
            "band": ["low"] * len(user_ids),
            "reasons": [[] for _ in user_ids],
            "model_version": ["drill"] * len(user_ids),
            "scored_at": [now] * len(user_ids),
        },
        schema_overrides={"reasons": pl.List(pl.String)},
    )
    store = RedisStore(url, timeout_s=2.0)
    try:
        return publish(store, frame, snapshot="drill").version
    finally:
        store.close()


def recovery(api: TestClient, cast: Cast, *, since: float, bound_s: float) -> dict[str, float]:
    """Seconds from ``since`` until a transfer is decided from the store again (201) and until
    a feed read is ranked again; asserts both within ``bound_s``. Each is polled until it
    recovers, not after (a transfer counts against the rate limits once the store is back)."""
    recovered: dict[str, float] = {}
    while len(recovered) < 2 and time.monotonic() - since < bound_s + 2:
        if "decide" not in recovered and transfer(api, cast, "payer").status == 201:
            recovered["decide"] = time.monotonic() - since
        if "feed" not in recovered and not feed(api, cast).body["degraded"]:
            recovered["feed"] = time.monotonic() - since
        time.sleep(0.05)
    assert set(recovered) == {"decide", "feed"}, recovered
    assert max(recovered.values()) <= bound_s, recovered
    return recovered


def wait_for_traffic(done: Callable[[], bool], workers: list[threading.Thread]) -> None:
    deadline = time.monotonic() + 30
    while not done():
        assert all(w.is_alive() for w in workers), "a traffic thread died (see its traceback)"
        assert time.monotonic() < deadline, "traffic stalled"
        time.sleep(0.01)


def make_cast(api: TestClient, redis_url: str) -> tuple[Cast, list[str], str]:
    """The cast, with published scores; also the posts the reader sees, newest first, and the
    score version."""
    author, ha = signed_in(api)
    reader, hr = signed_in(api)
    payer, hp = signed_in(api)
    mfa_payer, hm = trusted(api)
    recipient, _ = signed_in(api)
    _stranger, hs = signed_in(api)
    version = publish_scores(
        redis_url,
        [author["id"], reader["id"], payer["id"], mfa_payer["id"], recipient["id"]],
    )
    for headers in (hp, hm):
        fund(api, headers, "100.00")
    assert api.put(f"/social/follows/{author['id']}", headers=hr).status_code == 201
    posts = [post(api, ha, f"before the outage {i}") for i in range(3)]
    post(api, ha, "friends only: the reader follows but is no friend", "friends")
    post(api, hs, "a stranger's public post: not followed")
    mine = post(api, hr, "the reader's own post")
    cast = Cast(ha, hr, hp, hm, recipient["id"], author["id"], posts[0])
    return cast, [mine, *reversed(posts)], version

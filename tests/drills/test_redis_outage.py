"""Drill: the online store's Redis is SIGKILLed mid-traffic, then restarted on the same port.

Promises held: no 5xx at any point; critical money actions answer a step-up (401 with the RFC
9470 challenge) while the store is gone, low-risk ones go on; the feed degrades to the newest
visible posts of followed users from the core database, marked ``degraded``; once Redis is back
the answers are normal again within the circuit breaker's open time plus a margin.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from fastapi.testclient import TestClient

from core_api.app import create_app
from serving.feed.guard import REQUEST_TIMEOUT_S
from serving.publish import publish
from serving.settings import Settings
from serving.store import RedisStore
from tests.core_api.routers.helpers import signed_in
from tests.core_api.routers.money_helpers import assert_ledger_consistent, fund, key, trusted
from tests.drills.servers import RedisServer

pytestmark = [pytest.mark.integration, pytest.mark.drill, pytest.mark.timeout(120)]
H = dict[str, str]
MARGIN_S = 3.0  # recovery bound: the breaker's open time plus this


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


def _call(api: TestClient, cast: Cast, action: str, method: str, url: str, **kw: Any) -> Seen:
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


def _transfer(api: TestClient, cast: Cast, who: str) -> Seen:
    body = {"to_user_id": cast.recipient_id, "amount": "0.01", "currency": "EUR"}
    headers = {**getattr(cast, who), **key()}
    return _call(
        api, cast, f"transfer:{who}", "POST", "/payments/transfers", json=body, headers=headers
    )


def _feed(api: TestClient, cast: Cast, **params: Any) -> Seen:
    return _call(api, cast, "feed", "GET", "/social/feed", params=params, headers=cast.reader)


def _round(api: TestClient, cast: Cast) -> None:
    """One of each: the low-risk actions, a feed read, the two transfers."""
    _call(api, cast, "follow", "PUT", f"/social/follows/{cast.author_id}", headers=cast.reader)
    _call(
        api,
        cast,
        "comment",
        "POST",
        f"/social/posts/{cast.post_id}/comments",
        json={"body": "still here"},
        headers=cast.reader,
    )
    _call(
        api,
        cast,
        "profile",
        "PATCH",
        "/identity/profile",
        json={"bio": uuid.uuid4().hex},
        headers=cast.reader,
    )
    _feed(api, cast)
    _transfer(api, cast, "payer")
    _transfer(api, cast, "mfa_payer")


def _post(api: TestClient, headers: H, body: str, visibility: str = "public") -> str:
    made = api.post(
        "/social/posts",
        json={"body": body, "topic": "tech", "visibility": visibility},
        headers=headers,
    )
    assert made.status_code == 201, made.text
    return made.json()["id"]


def _publish_scores(url: str, user_ids: list[str]) -> str:
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


def _recovery(api: TestClient, cast: Cast, *, since: float, bound_s: float) -> dict[str, float]:
    """Seconds from ``since`` until a transfer is decided from the store again (201) and until
    a feed read is ranked again; asserts both within ``bound_s``. Each is polled until it
    recovers, not after (a transfer counts against the rate limits once the store is back)."""
    recovered: dict[str, float] = {}
    while len(recovered) < 2 and time.monotonic() - since < bound_s + 2:
        if "decide" not in recovered and _transfer(api, cast, "payer").status == 201:
            recovered["decide"] = time.monotonic() - since
        if "feed" not in recovered and not _feed(api, cast).body["degraded"]:
            recovered["feed"] = time.monotonic() - since
        time.sleep(0.05)
    assert set(recovered) == {"decide", "feed"}, recovered
    assert max(recovered.values()) <= bound_s, recovered
    return recovered


def _wait(done: Callable[[], bool], workers: list[threading.Thread]) -> None:
    deadline = time.monotonic() + 30
    while not done():
        assert all(w.is_alive() for w in workers), "a traffic thread died (see its traceback)"
        assert time.monotonic() < deadline, "traffic stalled"
        time.sleep(0.01)


@pytest.fixture
def api(redis_server: RedisServer, tmp_path: Path) -> Iterator[TestClient]:
    settings = Settings(
        data_dir=tmp_path, database_url=None, redis_url=redis_server.url(), nats_url=None
    )
    app = create_app(settings, relay_every_s=None)
    with TestClient(app, client=("198.51.100.23", 50000), raise_server_exceptions=False) as c:
        yield c


def _cast(api: TestClient, redis_server: RedisServer) -> tuple[Cast, list[str], str]:
    author, ha = signed_in(api)
    reader, hr = signed_in(api)
    payer, hp = signed_in(api)
    mfa_payer, hm = trusted(api)
    recipient, _ = signed_in(api)
    _stranger, hs = signed_in(api)
    version = _publish_scores(
        redis_server.url(),
        [author["id"], reader["id"], payer["id"], mfa_payer["id"], recipient["id"]],
    )
    for headers in (hp, hm):
        fund(api, headers, "100.00")
    assert api.put(f"/social/follows/{author['id']}", headers=hr).status_code == 201
    posts = [_post(api, ha, f"before the outage {i}") for i in range(3)]
    _post(api, ha, "friends only: the reader follows but is no friend", "friends")
    _post(api, hs, "a stranger's public post: not followed")
    mine = _post(api, hr, "the reader's own post")
    cast = Cast(ha, hr, hp, hm, recipient["id"], author["id"], posts[0])
    return cast, [mine, *reversed(posts)], version


def test_redis_killed_mid_traffic_degrades_then_recovers(
    api: TestClient, redis_server: RedisServer
) -> None:
    cast, visible, version = _cast(api, redis_server)
    open_s = api.app.state.services.decider.rules.store.breaker_open_s

    # Normal: every answer from the store, the feed ranked from its timelines.
    _round(api, cast)
    normal = {s.action: s for s in cast.seen}
    assert normal["transfer:payer"].status == 201, normal["transfer:payer"].body
    assert normal["feed"].body["degraded"] is False
    assert [i["post"]["id"] for i in normal["feed"].body["items"]] == visible
    payout = _call(
        api,
        cast,
        "payout",
        "POST",
        "/payments/payouts",
        headers={**cast.payer, **key()},
        json={"amount": "1.00", "currency": "EUR", "destination_id": "ba_1"},
    )
    assert payout.status == 401 and payout.body["detail"]["reason"] == "mfa_required"

    # SIGKILL while two clients keep going.
    stop = threading.Event()

    def traffic() -> None:
        while not stop.is_set():
            _round(api, cast)

    workers = [threading.Thread(target=traffic) for _ in range(2)]
    for w in workers:
        w.start()
    try:
        _wait(lambda: len(cast.seen) >= 40, workers)
        redis_server.kill()
        killed = time.monotonic()
        _wait(lambda: time.monotonic() - killed > 1.5 and len(cast.seen) >= 120, workers)
    finally:
        stop.set()
        for w in workers:
            w.join(timeout=30)

    # During the outage: still no 5xx, money asks for a step-up, the rest goes on.
    made = _post(api, cast.author, "posted during the outage")  # elevated: fails open
    after = [s for s in cast.seen if s.started > killed]

    def by(action: str) -> list[Seen]:
        return [s for s in after if s.action == action]

    assert by("transfer:payer") and all(s.status == 401 for s in by("transfer:payer"))
    assert all(s.body["detail"]["reasons"] == ["store_unavailable"] for s in by("transfer:payer"))
    assert all(
        'error="insufficient_user_authentication"' in s.challenge for s in by("transfer:payer")
    )
    # Current policy: a session with a fresh second factor still moves money (no rate limits
    # can be counted). The lead is deciding this case; update this assertion with the policy.
    assert all(s.status == 201 for s in by("transfer:mfa_payer"))
    for action in ("follow", "comment", "profile"):
        assert by(action) and all(s.status in (200, 201) for s in by(action)), action
    assert by("feed") and all(s.status == 200 and s.body["degraded"] for s in by("feed"))
    payout = _call(
        api,
        cast,
        "payout",
        "POST",
        "/payments/payouts",
        headers={**cast.payer, **key()},
        json={"amount": "1.00", "currency": "EUR", "destination_id": "ba_1"},
    )
    assert payout.status == 401 and payout.body["detail"]["reasons"] == ["store_unavailable"]
    # The fallback: the newest visible posts of followed users (and the reader's own), paged.
    first = _feed(api, cast, limit=3).body
    rest = _feed(api, cast, limit=3, cursor=first["cursor"]).body
    assert first["degraded"] and rest["degraded"] and rest["cursor"] is None
    assert first["version"] is None and not any(i["ranked"] for i in first["items"])
    assert [i["post"]["id"] for i in first["items"] + rest["items"]] == [made, *visible]

    # Back on the same port, from its append-only file: normal within the bound.
    restarted_in = redis_server.start()
    back = time.monotonic()
    recovered = _recovery(api, cast, since=back, bound_s=open_s + MARGIN_S)
    print(f"\nredis restart {restarted_in:.2f}s; normal again after {recovered}")
    page = _feed(api, cast).body
    assert page["degraded"] is False
    assert set(visible) <= {i["post"]["id"] for i in page["items"]}
    decision = api.app.state.services.decider.decide(cast.recipient_id, "transfer")
    assert decision.score_version == version and not decision.degraded

    assert [(s.action, s.status) for s in cast.seen if s.status >= 500] == []
    assert_ledger_consistent(api)


def test_redis_stalled_answers_within_timeouts_then_recovers(
    api: TestClient, redis_server: RedisServer
) -> None:
    """SIGSTOP: connections stay open and nothing answers. Every request must still answer, and
    quickly: the decision path gives the store 50 ms, a feed read REQUEST_TIMEOUT_S."""
    cast, visible, _ = _cast(api, redis_server)
    open_s = api.app.state.services.decider.rules.store.breaker_open_s
    _round(api, cast)
    redis_server.pause()
    try:
        stalled = time.monotonic()
        for _ in range(7):  # more than the breakers' failure counts
            _round(api, cast)
        _post(api, cast.author, "posted while the store hangs")
    finally:
        redis_server.resume()
    resumed = time.monotonic()
    during = [s for s in cast.seen if s.started > stalled]
    worst = max(during, key=lambda s: s.took)
    print(f"\nslowest answer while stalled: {worst.action} {worst.took:.3f}s")
    assert worst.took < REQUEST_TIMEOUT_S + 1.0, worst
    assert [(s.action, s.status) for s in during if s.status >= 500] == []
    assert all(s.body["degraded"] for s in during if s.action == "feed")
    assert all(s.status == 401 for s in during if s.action == "transfer:payer")

    recovered = _recovery(api, cast, since=resumed, bound_s=open_s + MARGIN_S)
    print(f"normal again after SIGCONT: {recovered}")
    assert set(visible) <= {i["post"]["id"] for i in _feed(api, cast).body["items"]}

"""`vouch simulate --via-api URL`: a small platform driven through the core API over HTTP.

Unlike the NDJSON simulator, every event here is emitted by the API itself, so the scenario
tests the whole loop: API -> outbox -> landing -> lake -> features -> scores -> decisions.

Two limits of talking HTTP shape it (documented, not worked around):

- Verification and MFA codes are only delivered to the dev message table (no HTTP route reads
  them), so the caller passes an ``Inbox``; ``sql_inbox`` reads that table the way a developer
  reads a mail catcher. Without one, nobody verifies and step-ups cannot be answered.
- The API's clock is real: every account is minutes old, and the rules deny critical actions to
  unscored accounts in their first 10 minutes. On a fresh server the trading step is therefore
  *attempted* and answered 403 ``new_account``; once the pipeline has published scores for these
  users (or on a re-run with the same seed after a publish) the same step goes through for
  normal users, while the ring is held back by its scores.

Clients are told apart by ``X-Forwarded-For`` (TEST-NET addresses), which the server honours
only when it runs behind a trusted proxy (``vouch api --forwarded-allow-ips``); without it every
user shares one address, which the trust graph rightly reads as one big ring.
"""

from __future__ import annotations

import random
import re
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx2 as httpx

from core_api.events import POST_TOPICS

Inbox = Callable[[str], str | None]  # recipient -> the newest code sent to it
PASSWORD = "via-api correct horse"
_CODE = re.compile(r"\b(\d{6})\b")


@dataclass
class Account:
    email: str
    device: str
    ip: str
    ring: bool
    id: str = ""
    token: str = ""
    verified: bool = False

    def headers(self) -> dict[str, str]:
        out = {"X-Device-Fingerprint": self.device, "X-Forwarded-For": self.ip}
        return out | ({"Authorization": f"Bearer {self.token}"} if self.token else {})


@dataclass
class Api:
    """An HTTP client that tallies every answer: status codes and the reasons of refusals."""

    client: httpx.Client
    inbox: Inbox | None = None
    statuses: Counter[int] = field(default_factory=Counter)
    refusals: Counter[str] = field(default_factory=Counter)

    def call(
        self, method: str, path: str, who: Account, *, body: Any = None, keyed: bool = False
    ) -> httpx.Response:
        headers = who.headers() | ({"Idempotency-Key": uuid.uuid4().hex} if keyed else {})
        response = self.client.request(method, path, json=body, headers=headers)
        self.statuses[response.status_code] += 1
        if response.status_code in (401, 403, 429) and who.token:
            detail = _detail(response)
            self.refusals[f"{response.status_code}:{detail.get('reason', '?')}"] += 1
        return response

    def critical(
        self, method: str, path: str, who: Account, *, body: Any = None, keyed: bool = False
    ) -> httpx.Response:
        """A critical action; a step-up challenge is answered once with a second factor."""
        response = self.call(method, path, who, body=body, keyed=keyed)
        challenge = response.headers.get("WWW-Authenticate", "")
        stepped = response.status_code == 401 and "insufficient_user_authentication" in challenge
        if stepped and self.step_up(who):
            response = self.call(method, path, who, body=body, keyed=keyed)
        return response

    def step_up(self, who: Account) -> bool:
        if self.inbox is None or not who.verified:
            return False
        if self.call("POST", "/identity/mfa/challenge", who).status_code != 202:
            return False
        code = self.inbox(who.email)
        raised = self.call("POST", "/identity/mfa/verify", who, body={"code": code or ""})
        if raised.status_code != 200:
            return False
        who.token = raised.json()["access_token"]
        return True


def _detail(response: httpx.Response) -> dict[str, Any]:
    try:
        detail = response.json().get("detail")
    except ValueError:
        return {}
    return detail if isinstance(detail, dict) else {}


def sql_inbox(database_url: str) -> Inbox:
    """Codes from the API's dev message table (SQLite file or PostgreSQL URL)."""
    from sqlalchemy import create_engine, make_url, text

    url = make_url(database_url)
    if url.drivername in ("postgresql", "postgres"):
        url = url.set(drivername="postgresql+psycopg")  # the one driver installed, as the API
    engine = create_engine(url)
    query = text("SELECT body FROM dev_messages WHERE recipient = :r ORDER BY id DESC LIMIT 1")

    def newest(recipient: str) -> str | None:
        with engine.connect() as conn:
            body = conn.execute(query, {"r": recipient}).scalar()
        match = _CODE.search(body or "")
        return match.group(1) if match else None

    return newest


@dataclass
class Platform:
    """The scenario's cast: who is normal, who is in the ring, and what they made."""

    normal: list[Account]
    ring: list[Account]
    posts: list[str] = field(default_factory=list)
    listings: list[tuple[Account, str]] = field(default_factory=list)
    orders_delivered: int = 0
    transfers: Counter[str] = field(default_factory=Counter)  # "normal"/"ring" -> sent
    subscriptions: Counter[str] = field(default_factory=Counter)  # "normal"/"ring" -> started

    @property
    def everyone(self) -> list[Account]:
        return [*self.normal, *self.ring]


def cast(users: int, *, seed: int) -> Platform:
    """Deterministic accounts: ``users`` normal ones (own device and address each) and a ring
    of max(5, users // 3) sharing one device and one address (5+ accounts on one device is a
    review rule)."""
    normal = [
        Account(
            email=f"s{seed}-user{i}@example.com",
            device=f"s{seed}-phone-{i}",
            ip=f"198.51.100.{10 + i % 240}",
            ring=False,
        )
        for i in range(users)
    ]
    ring = [
        Account(
            email=f"s{seed}-promo{i}@example.net",
            device=f"s{seed}-emulator",
            ip="203.0.113.66",
            ring=True,
        )
        for i in range(max(5, users // 3))
    ]
    return Platform(normal=normal, ring=ring)


def sign_up(api: Api, who: Account) -> None:
    """Register (or, on a re-run with the same seed, find the account taken) and log in."""
    body = {"email": who.email, "password": PASSWORD, "display_name": who.email.split("@")[0]}
    api.call("POST", "/identity/register", who, body=body)
    login = api.call(
        "POST", "/identity/login", who, body={"email": who.email, "password": PASSWORD}
    )
    if login.status_code != 200:
        return
    who.token = login.json()["access_token"]
    me = api.call("GET", "/identity/me", who).json()
    who.id = me["id"]
    who.verified = me.get("email_verified_at") is not None
    # The ring never verifies: throwaway addresses are what makes it cheap.
    if who.verified or who.ring or api.inbox is None:
        return
    if api.call("POST", "/identity/verify/email", who).status_code == 202:
        code = api.inbox(who.email) or ""
        confirmed = api.call("POST", "/identity/verify/email/confirm", who, body={"code": code})
        who.verified = confirmed.status_code == 200


def socialise(api: Api, platform: Platform, rng: random.Random) -> None:
    """Follows, posts, likes, comments and messages. The ring follows and likes only itself
    and spams links at normal users."""
    for who in platform.normal:
        for other in rng.sample(platform.normal, k=min(3, len(platform.normal))):
            if other is not who:
                api.call("PUT", f"/social/follows/{other.id}", who)
        post = api.call(
            "POST",
            "/social/posts",
            who,
            body={"body": f"hello from {who.device}", "topic": rng.choice(POST_TOPICS)},
        )
        if post.status_code == 201:
            platform.posts.append(post.json()["id"])
    for who in platform.ring:
        for other in platform.ring:
            if other is not who:
                api.call("PUT", f"/social/follows/{other.id}", who)
        post = api.call(
            "POST",
            "/social/posts",
            who,
            body={"body": "cheap followers http://promo.example", "topic": "finance"},
        )
        if post.status_code == 201:
            platform.posts.append(post.json()["id"])
    for who in platform.everyone:
        for post_id in rng.sample(platform.posts, k=min(3, len(platform.posts))):
            api.call("PUT", f"/social/posts/{post_id}/like", who)
        if not who.ring and platform.posts:
            api.call(
                "POST",
                f"/social/posts/{rng.choice(platform.posts)}/comments",
                who,
                body={"body": "nice"},
            )
    for who in platform.everyone:
        to = rng.choice(platform.normal)
        if to is who:
            continue
        started = api.call("POST", "/social/conversations", who, body={"participant_ids": [to.id]})
        if started.status_code == 201:
            text = "deal at http://promo.example" if who.ring else "hi, still selling?"
            api.call(
                "POST",
                f"/social/conversations/{started.json()['id']}/messages",
                who,
                body={"body": text},
            )


def fund(api: Api, platform: Platform) -> None:
    """Card top-ups (not a critical action); one ring card is declined."""
    for who in platform.everyone:
        amount = "40.00" if who.ring else "200.00"
        api.call(
            "POST",
            "/payments/deposits",
            who,
            keyed=True,
            body={"amount": amount, "currency": "EUR", "payment_method_id": "pm_card_visa"},
        )
    api.call(
        "POST",
        "/payments/deposits",
        platform.ring[-1],
        keyed=True,
        body={"amount": "500.00", "currency": "EUR", "payment_method_id": "pm_card_declined"},
    )

"""Access decisions: each rule, the unscored policy, and failing / slow stores."""

from __future__ import annotations

import time
import uuid
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import polars as pl
import pytest

from serving.decide import REASONS, Context, Decider
from serving.publish import publish
from serving.rules import default_rules, load_rules
from serving.store import Ask, Facts, RedisStore, SQLiteStore

GOOD, RISKY, SHADY, CONFIRMED = (str(uuid.UUID(int=i)) for i in range(1, 5))
HOME = Context(ip="10.0.0.1", device="dev-1", country="FR", verified=True)


@pytest.fixture
def scored(tmp_path: Path) -> SQLiteStore:
    store = SQLiteStore(tmp_path / "online.sqlite")
    scores = pl.DataFrame(
        {
            "user_id": [GOOD, RISKY, SHADY, CONFIRMED],
            "trust": [0.8, 0.5, 0.01, 0.7],
            "fraud_risk": [0.01, 0.2, 0.7, 0.05],
            "band": ["low", "medium", "high", "low"],
            "confirmed_fraud": [False, False, False, True],
            "reasons": [[], ["4 payments failed in 24 h"], ["7 accounts share this device"], []],
            "model_version": "vouch-fraud/3",
            "scored_at": pl.Series([datetime.now(UTC)] * 4, dtype=pl.Datetime("us", "UTC")),
        }
    )
    publish(store, scores, snapshot="2026-11-25")
    for user in (GOOD, RISKY, SHADY, CONFIRMED):
        store.remember(user, device="dev-1", country="FR")
    return store


@pytest.fixture
def decider(scored: SQLiteStore) -> Decider:
    return Decider(scored, rules=default_rules())


def test_known_user_on_known_device_is_allowed(decider: Decider) -> None:
    d = decider.decide(GOOD, "order", context=HOME)
    assert (d.outcome, d.reasons) == ("allow", ())
    assert d.score_version and d.rules_version == default_rules().version
    assert d.trust == pytest.approx(0.8) and d.band == "low"
    assert 0 <= d.score_age_s < 60


def test_payout_always_needs_a_fresh_second_factor(decider: Decider) -> None:
    assert decider.decide(GOOD, "payout", context=HOME).reasons == ("mfa_required",)
    fresh = decider.decide(
        GOOD, "payout", context=Context(device="dev-1", country="FR", mfa_age_s=30)
    )
    assert (fresh.outcome, fresh.reasons) == ("allow", ("mfa_fresh", "mfa_required"))
    stale = decider.decide(
        GOOD, "payout", context=Context(device="dev-1", country="FR", mfa_age_s=3600)
    )
    assert stale.outcome == "step_up"


def test_new_device_and_country_step_up_critical_actions_only(decider: Decider) -> None:
    away = Context(ip="10.0.0.1", device="dev-9", country="BR")
    d = decider.decide(GOOD, "order", context=away)
    assert (d.outcome, d.reasons) == ("step_up", ("new_device", "new_country"))
    assert decider.decide(GOOD, "message", context=away).outcome == "allow"
    decider.remember(GOOD, away)
    assert decider.decide(GOOD, "order", context=away).outcome == "allow"


def test_risk_bands_and_trust(decider: Decider) -> None:
    medium = decider.decide(RISKY, "order", context=HOME)
    assert (medium.outcome, medium.reasons) == ("step_up", ("elevated_fraud_risk",))
    assert medium.user_reasons == ("4 payments failed in 24 h",)
    high = decider.decide(SHADY, "order", context=HOME)
    assert (high.outcome, high.reasons) == ("deny", ("high_fraud_risk",))
    assert high.user_reasons == ("7 accounts share this device",)
    assert decider.decide(SHADY, "message", context=HOME).outcome == "step_up"
    assert decider.decide(SHADY, "comment", context=HOME).outcome == "allow"  # low-risk action


def test_confirmed_fraud_and_bans_deny_all_but_appeal(decider: Decider) -> None:
    for action in ("comment", "login", "payout"):
        assert decider.decide(CONFIRMED, action, context=HOME).reasons == ("confirmed_fraud",)
    assert decider.decide(CONFIRMED, "appeal", context=HOME).outcome == "allow"
    banned = Context(ip="10.0.0.1", account_status="banned")
    assert decider.decide(GOOD, "message", context=banned).reasons == ("account_banned",)
    assert decider.decide(GOOD, "appeal", context=banned).outcome == "allow"


def test_rate_limit_per_user_then_per_ip(scored: SQLiteStore) -> None:
    frozen = time.time()  # fixed windows: keep every request inside one
    decider = Decider(scored, rules=default_rules(), clock=lambda: frozen)
    limit = default_rules().actions["payout"].rate[0].limit  # per user per hour
    fresh = Context(ip="10.0.0.7", device="dev-1", country="FR", mfa_age_s=1)
    outcomes = [decider.decide(GOOD, "payout", context=fresh).outcome for _ in range(limit + 1)]
    assert outcomes == ["allow"] * limit + ["deny"]
    assert decider.decide(GOOD, "payout", context=fresh).reasons == ("rate_limited_user",)
    register = default_rules().actions["register"].rate[0].limit
    anon = Context(ip="10.0.0.8")
    outs = [decider.decide(None, "register", context=anon).outcome for _ in range(register + 1)]
    assert outs[-1] == "deny" and outs[:-1] == ["allow"] * register


def test_unscored_user_policy_from_age_and_verification(decider: Decider) -> None:
    newcomer = str(uuid.uuid4())
    minute_old = Context(ip="10.0.0.2", account_age_s=60, verified=True)
    assert decider.decide(newcomer, "order", context=minute_old).outcome == "deny"
    day_old = Context(ip="10.0.0.2", account_age_s=3 * 86400, verified=False)
    d = decider.decide(newcomer, "order", context=day_old)
    assert d.outcome == "step_up" and "unscored_unverified" in d.reasons
    settled = Context(ip="10.0.0.2", account_age_s=3 * 86400, verified=True)
    assert decider.decide(newcomer, "listing_create", context=settled).outcome == "allow"
    assert decider.decide(newcomer, "post", context=settled).outcome == "allow"
    assert decider.decide(newcomer, "message", context=Context()).outcome == "allow"


def test_unknown_action_fails_closed(decider: Decider) -> None:
    assert decider.decide(GOOD, "teleport", context=HOME).reasons == ("unknown_action",)


def test_every_reason_code_is_documented(decider: Decider) -> None:
    seen = set()
    for user in (GOOD, RISKY, SHADY, CONFIRMED, str(uuid.uuid4())):
        for action in default_rules().actions:
            seen.update(decider.decide(user, action, context=Context(ip="10.9.9.9")).reasons)
    assert seen <= set(REASONS) | {"account_banned", "account_suspended"}


class _Broken:
    """A store that fails or stalls: what decisions do when Redis is down or slow."""

    def __init__(self, *, delay_s: float = 0.0, fail: bool = True) -> None:
        self.calls, self.delay_s, self.fail = 0, delay_s, fail

    def fetch(self, ask: Ask) -> Facts:
        self.calls += 1
        time.sleep(self.delay_s)
        if self.fail:
            raise ConnectionError("store down")
        return Facts(manifest=None, record=None, counts=(0,) * len(ask.counters))

    def remember(self, user_id: str, *, device: str | None, country: str | None) -> None:
        raise ConnectionError("store down")


def test_store_down_fails_open_for_low_risk_and_to_step_up_for_critical() -> None:
    decider = Decider(_Broken(), rules=default_rules())
    assert decider.decide(GOOD, "comment", context=HOME).outcome == "allow"
    d = decider.decide(GOOD, "payout", context=HOME)
    assert (d.outcome, d.reasons, d.degraded) == ("step_up", ("store_unavailable",), True)
    decider.remember(GOOD, HOME)  # swallowed, counted


def test_breaker_opens_then_stops_calling_the_store() -> None:
    store = _Broken()
    decider = Decider(store, rules=default_rules())
    failures = default_rules().store.breaker_failures
    for _ in range(failures + 20):
        decider.decide(GOOD, "order", context=HOME)
    assert store.calls == failures
    assert decider.breaker.state == "open"


def test_slow_store_counts_against_the_breaker() -> None:
    rules = load_rules()
    slow = _Broken(delay_s=rules.store.budget_s * 1.5, fail=False)
    decider = Decider(slow, rules=rules)
    for _ in range(rules.store.breaker_failures):
        assert decider.decide(GOOD, "order", context=HOME).degraded is False
    assert decider.decide(GOOD, "order", context=HOME).reasons == ("store_unavailable",)


def test_redis_gone_answers_within_budget() -> None:
    # A port nobody listens on: connection refused, the real failure mode, no server needed.
    decider = Decider(RedisStore("redis://127.0.0.1:1/0", timeout_s=0.05), rules=default_rules())
    started = time.perf_counter()
    d = decider.decide(GOOD, "escrow_release", context=HOME)
    assert d.outcome == "step_up" and d.degraded
    assert time.perf_counter() - started < 1.0


def test_store_down_still_rate_limits_from_local_counters() -> None:
    # A fresh second factor may move money while the store is down, but no faster than the rules.
    frozen = 7200.0 * 1000 + 10  # 10 s into an hour
    decider = Decider(_Broken(), rules=default_rules(), clock=lambda: frozen)
    fresh = Context(ip="10.0.0.7", device="dev-1", mfa_age_s=1)
    limit = default_rules().actions["payout"].rate[0].limit
    outcomes = [decider.decide(GOOD, "payout", context=fresh) for _ in range(limit + 1)]
    assert [d.outcome for d in outcomes] == ["allow"] * limit + ["deny"]
    assert all(d.degraded for d in outcomes)
    assert outcomes[-1].reasons == ("rate_limited_user", "store_unavailable")
    assert outcomes[-1].retry_after_s == 3600 - 10
    # Logins stay throttled too, per account and source.
    logins = [decider.decide(GOOD, "login", context=HOME).outcome for _ in range(6)]
    assert logins == ["allow"] * 5 + ["deny"]


def test_a_rate_limit_says_when_to_retry(scored: SQLiteStore) -> None:
    frozen = 3600.0 * 500_000 + 100  # 100 s into an hour
    decider = Decider(scored, rules=default_rules(), clock=lambda: frozen)
    anon = Context(ip="10.0.0.9")
    limit = default_rules().actions["register"].rate[0].limit
    last = [decider.decide(None, "register", context=anon) for _ in range(limit + 1)][-1]
    assert (last.outcome, last.retry_after_s) == ("deny", 3500)
    assert decider.decide(None, "follow", context=anon).retry_after_s is None


def test_analyst_override_denies_at_once_over_good_scores(
    decider: Decider, scored: SQLiteStore
) -> None:
    assert decider.decide(GOOD, "order", context=HOME).outcome == "allow"
    scored.override(GOOD, "deny")
    denied = decider.decide(GOOD, "order", context=HOME)
    assert (denied.outcome, denied.reasons) == ("deny", ("analyst_override",))
    assert decider.decide(GOOD, "appeal", context=HOME).outcome == "allow"
    scored.override(GOOD, None)
    assert decider.decide(GOOD, "order", context=HOME).outcome == "allow"


def test_a_decision_carries_the_published_credit_limit(tmp_path: Path) -> None:
    store = SQLiteStore(tmp_path / "credit.sqlite")
    scores = pl.DataFrame(
        {
            "user_id": [GOOD],
            "trust": [0.8],
            "fraud_risk": [0.01],
            "band": ["low"],
            "reasons": [[]],
            "model_version": "vouch-fraud/3",
            "scored_at": pl.Series([datetime.now(UTC)], dtype=pl.Datetime("us", "UTC")),
            "credit_limit": pl.Series([Decimal("250.00")], dtype=pl.Decimal(18, 2)),
            "credit_currency": ["EUR"],
            "credit_reasons": [["lent against 5 completed sales worth 500 EUR in 180 days"]],
        },
        schema_overrides={"reasons": pl.List(pl.String)},
    )
    publish(store, scores, snapshot="2026-11-25")
    d = Decider(store, rules=default_rules()).decide(
        GOOD, "escrow_release", context=Context(mfa_age_s=10)
    )
    assert d.outcome == "allow" and d.credit is not None
    assert (d.credit.limit, d.credit.currency) == (Decimal("250.00"), "EUR")
    store.close()

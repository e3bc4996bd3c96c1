from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest
from fastapi import HTTPException

from core_api.deps import Client
from core_api.services.enforce import decision_context, enforce
from serving.decide import Context, Decider
from serving.rules import default_rules
from serving.store import SQLiteStore

USER = "3f2b6c1e-0000-4000-8000-000000000001"


@pytest.fixture
def decider(tmp_path: Path) -> Decider:
    return Decider(SQLiteStore(tmp_path / "online.sqlite"), rules=default_rules())


def test_step_up_is_a_401_with_an_rfc9470_challenge(decider: Decider) -> None:
    with pytest.raises(HTTPException) as caught:
        enforce(decider, "payout", user_id=USER, context=Context(account_age_s=10**7))
    assert caught.value.status_code == 401
    challenge = caught.value.headers["WWW-Authenticate"]
    assert challenge.startswith('Bearer error="insufficient_user_authentication"')
    assert 'acr_values="mfa"' in challenge and "max_age=900" in challenge
    assert "mfa_required" in caught.value.detail["reasons"]


def test_deny_is_a_403_with_the_reason_code(decider: Decider) -> None:
    with pytest.raises(HTTPException) as caught:
        enforce(decider, "order", user_id=USER, context=Context(account_status="banned"))
    assert caught.value.status_code == 403
    assert caught.value.detail["reason"] == "account_banned"


def test_allow_returns_the_decision(decider: Decider) -> None:
    decision = enforce(decider, "follow", user_id=USER, context=Context())
    assert decision.outcome == "allow"


def test_decision_context_without_a_user_is_anonymous() -> None:
    client = Client(ip="198.51.100.1", device="d", platform="web", user_agent=None)
    ctx = decision_context(client)
    assert (ctx.ip, ctx.device, ctx.account_age_s) == ("198.51.100.1", "d", None)
    assert not ctx.verified


def test_every_decision_is_one_json_record(
    decider: Decider, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO, logger="vouch.decisions"):
        enforce(decider, "follow", user_id=USER, context=Context())
        with pytest.raises(HTTPException):
            enforce(decider, "order", user_id=USER, context=Context(account_status="banned"))
    records = [json.loads(r.getMessage()) for r in caplog.records if r.name == "vouch.decisions"]
    assert [(r["action"], r["outcome"]) for r in records] == [
        ("follow", "allow"),
        ("order", "deny"),
    ]
    assert records[1]["reasons"] == ["account_banned"]
    assert records[0]["rules_version"] == decider.rules.version
    assert all(r["latency_ms"] >= 0 and r["user_id"] == USER for r in records)


def test_a_rate_limit_is_a_429_with_retry_after(decider: Decider) -> None:
    decider.clock = lambda: 3600.0 * 400_000 + 1
    anon = Context(ip="198.51.100.3")
    for _ in range(decider.rules.actions["register"].rate[0].limit):
        enforce(decider, "register", user_id=None, context=anon)
    with pytest.raises(HTTPException) as caught:
        enforce(decider, "register", user_id=None, context=anon)
    assert caught.value.status_code == 429
    assert caught.value.headers == {"Retry-After": "3599"}

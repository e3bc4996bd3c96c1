from __future__ import annotations

from pathlib import Path

import pytest
from fastapi import HTTPException

from core_api.deps import Client
from core_api.enforce import decision_context, enforce
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

from __future__ import annotations

from pathlib import Path

import pydantic
import pytest

from serving.breaker import CircuitBreaker
from serving.rules import DEFAULT_RULES, action_table, default_rules, load_rules


def test_packaged_rules_cover_the_seed_actions() -> None:
    rules = default_rules()
    critical = {n for n, a in rules.actions.items() if a.critical}
    assert {"payout", "order", "escrow_release", "listing_create", "trust_connect"} <= critical
    assert {"message", "post"} <= set(rules.actions)
    assert [r["action"] for r in action_table(rules)] == list(rules.actions)


def test_rules_file_with_a_typo_is_refused(tmp_path: Path) -> None:
    bad = tmp_path / "rules.toml"
    bad.write_text(
        DEFAULT_RULES.read_text().replace('criticality = "critical"', 'criticality = "huge"', 1)
    )
    with pytest.raises(pydantic.ValidationError, match="criticality"):
        load_rules(bad)


def test_rules_without_an_appeal_are_refused(tmp_path: Path) -> None:
    bad = tmp_path / "rules.toml"
    bad.write_text(DEFAULT_RULES.read_text().replace("allowed_when_banned = true", ""))
    with pytest.raises(pydantic.ValidationError, match="appeal"):
        load_rules(bad)


def test_breaker_half_opens_after_its_pause() -> None:
    now = [0.0]
    breaker = CircuitBreaker(failures=2, open_s=5.0, clock=lambda: now[0])
    breaker.failed()
    assert breaker.allow()
    breaker.failed()
    assert breaker.state == "open" and not breaker.allow()
    now[0] = 6.0
    assert breaker.allow() and not breaker.allow()  # one trial at a time
    breaker.succeeded()
    assert breaker.state == "closed" and breaker.allow()

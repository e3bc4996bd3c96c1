"""Access rules as versioned data (``serving/policy/rules.toml``), validated on load.

The file is the single place where thresholds, the action table and rate limits live; code in
``serving.decide`` only interprets it. ``VOUCH_RULES_PATH`` points at another file.
"""

from __future__ import annotations

import tomllib
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

DEFAULT_RULES = Path(__file__).with_name("policy") / "rules.toml"
Band = Literal["low", "medium", "high"]
BAND_ORDER: dict[str, int] = {"low": 0, "medium": 1, "high": 2}


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Limit(_Strict):
    # user_ip: one account from one source (its IP, else its device), see ``serving.limits``
    scope: Literal["user", "ip", "user_ip"]
    limit: int = Field(gt=0)
    window_s: int = Field(gt=0)


class Action(_Strict):
    criticality: Literal["critical", "elevated", "low"]
    mfa: Literal["always", "on_risk", "never"] = "on_risk"
    min_trust: float = Field(0.0, ge=0, le=1)
    allowed_when_banned: bool = False
    rate: tuple[Limit, ...] = ()

    @property
    def critical(self) -> bool:
        return self.criticality == "critical"


class Mfa(_Strict):
    fresh_s: float = Field(gt=0)


class Risk(_Strict):
    deny_band_critical: Band
    step_up_band: Band


class Unscored(_Strict):
    min_age_s: float = Field(ge=0)
    require_verified: bool
    deny_critical_age_s: float = Field(ge=0)


class StorePolicy(_Strict):
    budget_s: float = Field(gt=0, le=5)
    breaker_failures: int = Field(gt=0)
    breaker_open_s: float = Field(gt=0)


class Rules(_Strict):
    version: str = Field(min_length=1)
    mfa: Mfa
    risk: Risk
    unscored: Unscored
    store: StorePolicy
    actions: dict[str, Action]

    @model_validator(mode="after")
    def _appeal_exists(self) -> Rules:
        if not any(a.allowed_when_banned for a in self.actions.values()):
            raise ValueError("some action (an appeal) must stay allowed for banned accounts")
        return self


def load_rules(path: Path | str | None = None) -> Rules:
    """Read and validate a rules file (the packaged one by default)."""
    with open(path or DEFAULT_RULES, "rb") as f:
        return Rules.model_validate(tomllib.load(f))


@lru_cache
def default_rules() -> Rules:
    return load_rules()


def action_table(rules: Rules) -> list[dict[str, str]]:
    """The documented action table (README), straight from the rules."""
    rows = []
    for name, a in rules.actions.items():
        limits = ", ".join(
            f"{r.limit}/{_span(r.window_s)} per {r.scope.replace('_', '+')}" for r in a.rate
        )
        rows.append(
            {
                "action": name,
                "criticality": a.criticality,
                "mfa": a.mfa,
                "min_trust": f"{a.min_trust:g}",
                "rate limits": limits or "-",
            }
        )
    return rows


def _span(seconds: int) -> str:
    for unit, size in (("day", 86400), ("h", 3600), ("min", 60)):
        if seconds % size == 0:
            n = seconds // size
            return unit if n == 1 else f"{n} {unit}"
    return f"{seconds} s"

"""Access decisions: ``decide(user, action, context) -> allow | step_up | deny``.

One store round trip reads the user's published scores, increments the action's rate counters
and checks device / country novelty; the rules file (``serving.rules``) says what the facts
mean. The checks, first match of the strongest outcome wins:

1. deny: an analyst's override (the online store's per-user ``deny``, set the moment an analyst
   confirms fraud and kept across publishes), confirmed fraud or a banned / suspended account
   (these three except for the appeal action), a rate
   limit exceeded, a high fraud band or near-zero trust on a critical action, a critical action
   in an account's first minutes;
2. step_up: a second factor the action always needs, a medium band, trust under the action's
   minimum, an unscored account that is young or unverified, a new device or country, on
   critical (and for risk, elevated) actions. A fresh second factor satisfies every step-up.

When the store errs, is slower than the budget or its circuit is open, nothing is raised:
critical actions answer ``step_up`` (``store_unavailable``), everything else ``allow``. Rate
limits keep binding from in-process counters (``serving.limits.LocalCounters``), so a session
with a fresh second factor may still move money while the store is down, but no faster than
the rules allow per worker process, and logins stay throttled.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Literal

from serving import limits as rate
from serving.breaker import CircuitBreaker
from serving.keys import Credit, ScoreRecord
from serving.rules import BAND_ORDER, Action, Limit, Rules
from serving.store.base import Ask, Counter, DecisionStore, Facts

Outcome = Literal["allow", "step_up", "deny"]
REASONS = {
    "unknown_action": "the action is not in the rules' action table (fail closed)",
    "analyst_override": "an analyst's decision on this account overrides its scores",
    "confirmed_fraud": "an analyst confirmed fraud on this account",
    "account_banned": "the account is banned",
    "account_suspended": "the account is suspended",
    "rate_limited_user": "too many of these actions by this user in the window",
    "rate_limited_ip": "too many of these actions from this IP in the window",
    "high_fraud_risk": "fraud risk in the band where critical actions are denied",
    "new_account": "critical action within the account's first minutes",
    "mfa_required": "the action always needs a fresh second factor",
    "elevated_fraud_risk": "fraud risk in the band that needs a step-up",
    "low_trust": "trust below the action's minimum",
    "unscored_young_account": "not scored yet and younger than the rules' minimum age",
    "unscored_unverified": "not scored yet and no verified email or phone",
    "new_device": "first time this user acts from this device",
    "new_country": "first time this user acts from this country",
    "store_unavailable": "the online store failed, timed out or its circuit is open",
    "mfa_fresh": "a fresh second factor satisfied the step-up",
}


@dataclass(frozen=True, slots=True)
class Context:
    """What the caller knows of the request (all optional)."""

    ip: str | None = None
    device: str | None = None
    country: str | None = None
    account_age_s: float | None = None
    verified: bool = False  # a verified email or phone
    mfa_age_s: float | None = None  # since the session's last verified second factor
    account_status: str = "active"  # the core database's view: active, suspended, banned


@dataclass(frozen=True, slots=True)
class Decision:
    outcome: Outcome
    reasons: tuple[str, ...]
    action: str
    user_id: str | None
    rules_version: str
    score_version: str | None = None
    score_age_s: float | None = None  # now - scored_at of the published set
    trust: float | None = None
    fraud_risk: float | None = None
    band: str | None = None
    user_reasons: tuple[str, ...] = ()  # the model's reasons, when the decision cites risk
    degraded: bool = False
    retry_after_s: int | None = None  # when a rate limit refused: until its window ends
    credit: Credit | None = None  # the user's published credit limit, read in the same trip

    def to_dict(self) -> dict[str, object]:
        return asdict(self)


@dataclass(frozen=True, slots=True)
class _Fallback:
    """What a decision without the store still has: its limits, counters, clock and MFA."""

    limits: list[Limit]
    counters: tuple[Counter, ...]
    now_s: float
    mfa_fresh: bool


class Decider:
    """Decisions for one store and one rules version; safe to share across threads."""

    def __init__(
        self, store: DecisionStore, *, rules: Rules, clock: Callable[[], float] = time.time
    ) -> None:
        self.store, self.rules, self.clock = store, rules, clock
        self.breaker = CircuitBreaker(
            failures=rules.store.breaker_failures, open_s=rules.store.breaker_open_s
        )
        self.local = rate.LocalCounters()

    def decide(
        self, user_id: str | None, action: str, *, context: Context | None = None
    ) -> Decision:
        ctx = context or Context()
        rule = self.rules.actions.get(action)
        if rule is None:
            return self._answer("deny", ["unknown_action"], action, user_id, None)
        status = ctx.account_status
        if status in ("banned", "suspended") and user_id and not rule.allowed_when_banned:
            return self._answer("deny", [f"account_{status}"], action, user_id, None)
        now = self.clock()
        limits, counters = self._counters(user_id, action, rule, ctx, now_s=now)
        facts = self._facts(user_id, rule, ctx, counters=counters)
        mfa_fresh = ctx.mfa_age_s is not None and ctx.mfa_age_s <= self.rules.mfa.fresh_s
        if facts is None:
            fallback = _Fallback(limits, counters, now_s=now, mfa_fresh=mfa_fresh)
            return self._degraded(user_id, action, rule, fallback)
        deny, step_up = self._judge(rule, facts, ctx, limits=limits)
        if deny:
            retry = (
                self._retry(limits, facts.counts, now_s=now) if deny[0].startswith("rate") else None
            )
            return self._answer("deny", deny, action, user_id, facts, retry_after_s=retry)
        if step_up and not mfa_fresh:
            return self._answer("step_up", step_up, action, user_id, facts)
        return self._answer(
            "allow", ["mfa_fresh", *step_up] if step_up else [], action, user_id, facts
        )

    def remember(self, user_id: str, context: Context) -> None:
        """After a successful step-up: this device and country are now known for the user."""
        if self.breaker.allow():
            try:
                self.store.remember(user_id, device=context.device, country=context.country)
                self.breaker.succeeded()
            except Exception:
                self.breaker.failed()

    # --- internals ------------------------------------------------------------------------
    def _counters(
        self, user_id: str | None, action: str, rule: Action, ctx: Context, *, now_s: float
    ) -> tuple[list[Limit], tuple[Counter, ...]]:
        applied, subjects = [], []
        for lim in rule.rate:
            who = rate.subject(lim, user_id=user_id, ip=ctx.ip, device=ctx.device)
            if who is not None:
                applied.append(lim)
                subjects.append(who)
        chosen = rate.counters(applied, subjects, action=action, now_s=now_s, user_id=user_id)
        return applied, chosen

    def _retry(self, limits: list[Limit], counts: tuple[int, ...], *, now_s: float) -> int:
        over = [lim for lim, n in zip(limits, counts, strict=True) if n > lim.limit]
        return rate.retry_after_s(over, now_s=now_s)

    def _degraded(
        self, user_id: str | None, action: str, rule: Action, fallback: _Fallback
    ) -> Decision:
        limits, now_s = fallback.limits, fallback.now_s
        counts = self.local.incr(fallback.counters, now_s=now_s)
        pairs = zip(limits, counts, strict=True)
        over = [f"rate_limited_{lim.scope}" for lim, n in pairs if n > lim.limit]
        if over:
            retry = self._retry(limits, counts, now_s=now_s)
            reasons = [*over, "store_unavailable"]
            return self._answer(
                "deny", reasons, action, user_id, None, degraded=True, retry_after_s=retry
            )
        if rule.critical and not fallback.mfa_fresh:
            return self._answer(
                "step_up", ["store_unavailable"], action, user_id, None, degraded=True
            )
        said = ["store_unavailable", *(["mfa_fresh"] if rule.critical else [])]
        return self._answer("allow", said, action, user_id, None, degraded=True)

    def _facts(
        self, user_id: str | None, rule: Action, ctx: Context, *, counters: tuple[Counter, ...]
    ) -> Facts | None:
        if not self.breaker.allow():
            return None
        novelty = rule.critical and user_id is not None
        ask = Ask(
            user_id=user_id or "",
            counters=counters,
            device=ctx.device if novelty else None,
            country=ctx.country if novelty else None,
        )
        started = time.perf_counter()
        try:
            facts = self.store.fetch(ask)
        except Exception:  # any store failure is a fallback, never the caller's exception
            self.breaker.failed()
            return None
        if time.perf_counter() - started > self.rules.store.budget_s:
            self.breaker.failed()  # slow counts against the store, but the answer is used
        else:
            self.breaker.succeeded()
        return facts

    def _judge(
        self, rule: Action, facts: Facts, ctx: Context, *, limits: list[Limit]
    ) -> tuple[list[str], list[str]]:
        deny: list[str] = []
        step_up: list[str] = []
        for limit, count in zip(limits, facts.counts, strict=True):
            if count > limit.limit:
                deny.append(f"rate_limited_{limit.scope}")
        if facts.override == "deny" and not rule.allowed_when_banned:
            deny.append("analyst_override")
        record = facts.record
        risk = self.rules.risk
        if record is not None:
            if record.confirmed_fraud and not rule.allowed_when_banned:
                deny.append("confirmed_fraud")
            band = BAND_ORDER.get(record.band, 0)
            if rule.critical and band >= BAND_ORDER[risk.deny_band_critical]:
                deny.append("high_fraud_risk")
            elif rule.criticality != "low" and band >= BAND_ORDER[risk.step_up_band]:
                step_up.append("elevated_fraud_risk")
            # Only the risk denies (it already weighs the trust graph): one verdict, so the
            # safest user by risk is never the one refused for trust.
            if rule.criticality != "low" and record.trust < rule.min_trust:
                step_up.append("low_trust")
        elif rule.critical:
            step_up += self._unscored(ctx, deny)
        if rule.mfa == "always":
            step_up.append("mfa_required")
        if rule.critical and facts.new_device:
            step_up.append("new_device")
        if rule.critical and facts.new_country:
            step_up.append("new_country")
        return deny, step_up

    def _unscored(self, ctx: Context, deny: list[str]) -> list[str]:
        policy = self.rules.unscored
        age = ctx.account_age_s
        if age is not None and age < policy.deny_critical_age_s:
            deny.append("new_account")
        out = []
        if age is None or age < policy.min_age_s:
            out.append("unscored_young_account")
        if policy.require_verified and not ctx.verified:
            out.append("unscored_unverified")
        return out

    def _answer(
        self,
        outcome: Outcome,
        reasons: list[str],
        action: str,
        user_id: str | None,
        facts: Facts | None,
        *,
        degraded: bool = False,
        retry_after_s: int | None = None,
    ) -> Decision:
        record: ScoreRecord | None = facts.record if facts else None
        manifest = facts.manifest if facts else None
        cites_risk = any(r in ("high_fraud_risk", "elevated_fraud_risk") for r in reasons)
        return Decision(
            outcome=outcome,
            reasons=tuple(dict.fromkeys(reasons)),
            action=action,
            user_id=user_id,
            rules_version=self.rules.version,
            score_version=manifest.version if manifest else None,
            score_age_s=(self.clock() - manifest.scored_at.timestamp()) if manifest else None,
            trust=record.trust if record else None,
            fraud_risk=record.fraud_risk if record else None,
            band=record.band if record else None,
            user_reasons=record.reasons if (record and cites_risk) else (),
            degraded=degraded,
            retry_after_s=retry_after_s,
            credit=record.credit if record else None,
        )

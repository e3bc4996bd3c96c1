"""Trust enforcement: ask ``serving`` for a decision and turn it into HTTP.

``step_up`` -> 401 with an RFC 9470 challenge (the client verifies a second factor, then
retries); ``deny`` -> 403 with the reason code, or 429 with ``Retry-After`` when the reason is a
rate limit, which tells clients when to come back rather than to give up. Every decision, allow
included, is logged as one JSON record on the ``vouch.decisions`` logger.
"""

from __future__ import annotations

import json
import logging
import time
from datetime import UTC, datetime

from fastapi import HTTPException, status

from core_api.db.identity import AuthSession, User
from core_api.deps import Client
from serving.decide import Context, Decider, Decision

log = logging.getLogger("vouch.decisions")


def decision_context(
    client: Client, *, user: User | None = None, auth_session: AuthSession | None = None
) -> Context:
    now = datetime.now(UTC)
    mfa_at = auth_session.mfa_at if auth_session else None
    return Context(
        ip=client.ip,
        device=client.device,
        account_age_s=(now - user.created_at).total_seconds() if user else None,
        verified=bool(user and user.verified),
        mfa_age_s=(now - mfa_at).total_seconds() if mfa_at else None,
        account_status=user.status if user else "active",
    )


def record(decision: Decision, *, latency_s: float) -> str:
    """The decision as one line of JSON: what an auditor or a dashboard reads back."""
    return json.dumps(
        {
            "at": datetime.now(UTC).isoformat(timespec="milliseconds"),
            "user_id": decision.user_id,
            "action": decision.action,
            "outcome": decision.outcome,
            "reasons": list(decision.reasons),
            "score_version": decision.score_version,
            "rules_version": decision.rules_version,
            "band": decision.band,
            "fraud_risk": decision.fraud_risk,
            "degraded": decision.degraded,
            "latency_ms": round(latency_s * 1000, 3),
        },
        separators=(",", ":"),
    )


def enforce(decider: Decider, action: str, *, user_id: str | None, context: Context) -> Decision:
    """Return the decision when it allows; raise the HTTP answer when it does not."""
    started = time.perf_counter()
    decision = decider.decide(user_id, action, context=context)
    if log.isEnabledFor(logging.INFO):
        log.info(record(decision, latency_s=time.perf_counter() - started))
    if decision.outcome == "allow":
        return decision
    body = {"reason": decision.reasons[0], "reasons": list(decision.reasons), "action": action}
    if decision.outcome == "step_up":
        fresh_s = int(decider.rules.mfa.fresh_s)
        challenge = (
            'Bearer error="insufficient_user_authentication", '
            f'error_description="{action} needs a fresh second factor", '
            f'acr_values="mfa", max_age={fresh_s}'
        )
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED, detail=body, headers={"WWW-Authenticate": challenge}
        )
    if decision.reasons[0].startswith("rate_limited"):
        retry = {"Retry-After": str(decision.retry_after_s or 1)}
        raise HTTPException(status.HTTP_429_TOO_MANY_REQUESTS, detail=body, headers=retry)
    raise HTTPException(status.HTTP_403_FORBIDDEN, detail=body)


def configure_log(level: int = logging.INFO) -> None:
    """Make decision records reach stderr (one JSON line each) unless someone routed them."""
    if not log.handlers:
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter("%(message)s"))
        log.addHandler(handler)
    if log.level == logging.NOTSET or log.level > level:
        log.setLevel(level)

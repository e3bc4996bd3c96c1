"""Trust enforcement: ask ``serving`` for a decision and turn it into HTTP.

``step_up`` -> 401 with an RFC 9470 challenge (the client verifies a second factor, then
retries); ``deny`` -> 403 with the reason code, or 429 when the reason is a rate limit, which
tells clients to back off rather than give up. Every decision is logged.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from fastapi import HTTPException, status

from core_api.db.identity import AuthSession, User
from core_api.deps import Client
from serving.decide import Context, Decider, Decision

log = logging.getLogger(__name__)


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


def enforce(decider: Decider, action: str, *, user_id: str | None, context: Context) -> Decision:
    """Return the decision when it allows; raise the HTTP answer when it does not."""
    decision = decider.decide(user_id, action, context)
    level = logging.INFO if decision.outcome == "allow" else logging.WARNING
    log.log(
        level, "decision %s %s user=%s reasons=%s rules=%s scores=%s", action, decision.outcome,
        user_id, ",".join(decision.reasons), decision.rules_version, decision.score_version,
    )  # fmt: skip
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
    limited = decision.reasons[0].startswith("rate_limited")
    code = status.HTTP_429_TOO_MANY_REQUESTS if limited else status.HTTP_403_FORBIDDEN
    raise HTTPException(code, detail=body)

"""Credit: the caller's limit, and early escrow release against it (``services.credit``).

``GET /identity/me/credit`` reads the published limit from the online store; a store that
cannot answer is a 503 (``credit_unavailable``), never a guess. ``POST
/marketplace/orders/{id}/release-early`` lets the seller take a paid or shipped order's escrow
before delivery: an ``escrow_release`` action for the access rules (a fresh second factor, the
risk band, rate limits) whose decision carries the limit from the same store round trip. When
the decision was made without the store (degraded), the release fails closed with 503.
"""

from __future__ import annotations

from uuid import UUID

from fastapi import APIRouter, HTTPException, status
from fastapi.responses import JSONResponse

from core_api.deps import ClientDep, CurrentUser, ServicesDep, SessionDep
from core_api.routers.market_orders import order_http
from core_api.routers.payments import ledger_http
from core_api.schemas.credit import CreditOut, EarlyReleaseOut
from core_api.services import credit, idempotency, orders, payments
from core_api.services.enforce import decision_context, enforce
from core_api.services.idempotency import IdempotencyKey

router = APIRouter(tags=["credit"])


def _out(found: credit.Standing) -> CreditOut:
    return CreditOut(
        limit=found.limit,
        currency=found.currency,
        reasons=list(found.reasons),
        in_use=found.in_use,
        available=found.available,
        score_version=found.score_version,
    )


@router.get(
    "/identity/me/credit",
    response_model=CreditOut,
    responses={503: {"description": "the online store cannot answer (credit_unavailable)"}},
)
def my_credit(me: CurrentUser, db: SessionDep, services: ServicesDep) -> CreditOut:
    """My credit limit, its reasons in words, and how much of it is in use."""
    published, version = credit.published(services.store, me.user.id)
    return _out(credit.standing(db, me.user.id, credit=published, version=version))


@router.post(
    "/marketplace/orders/{order_id}/release-early",
    response_model=EarlyReleaseOut,
    responses={503: {"description": "the online store cannot answer (credit_unavailable)"}},
)
def release_early(
    order_id: UUID,
    key: IdempotencyKey,
    me: CurrentUser,
    db: SessionDep,
    services: ServicesDep,
    client: ClientDep,
) -> EarlyReleaseOut | JSONResponse:
    """The seller takes the order's escrow before delivery, within their credit limit."""
    route = f"POST /marketplace/orders/{order_id}/release-early"
    request = idempotency.keyed(me.user.id, key, route=route)
    if (earlier := idempotency.replay(db, request)) is not None:
        return earlier
    try:
        orders.visible(db, str(order_id), user_id=me.user.id)  # strangers: 404 first
    except orders.OrderError as exc:
        raise order_http(exc) from None
    context = decision_context(client, user=me.user, auth_session=me.session)
    decision = enforce(services.decider, "escrow_release", user_id=me.user.id, context=context)
    if decision.degraded:
        raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, detail=credit.UNAVAILABLE)

    def work() -> EarlyReleaseOut:
        order = orders.locked(db, str(order_id))
        now = credit.release_early(
            db,
            order,
            credit=decision.credit,
            actor_id=me.user.id,
            context=client.event_context(),
        )
        return EarlyReleaseOut(
            order_id=order.id,
            released=order.amount,
            currency=order.currency,
            credit=_out(now),
        )

    try:
        return idempotency.run(db, request, work=work, status_code=status.HTTP_200_OK)
    except credit.CreditError as exc:
        raise exc.http() from None
    except orders.OrderError as exc:
        raise order_http(exc) from None
    except payments.LedgerError as exc:
        raise ledger_http(exc) from None

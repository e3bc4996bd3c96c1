"""Subscriptions: sellers' plans, subscribing (the first period is charged at once), one's own
subscriptions and their invoices, and cancelling (at the period's end, or now).

Subscribing moves money, so it takes an ``Idempotency-Key`` and asks ``serving`` first (the
``subscribe`` action: critical, rate-limited; card testers try many plans from fresh accounts).
Offering a plan is gated like a listing. A subscription is visible to its subscriber only:
another user's answers 404. Reading and cancelling take any account status: a suspended user
may still stop paying. Later periods are charged by the billing run (``vouch billing``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, HTTPException, Query, Response, status
from fastapi.responses import JSONResponse
from sqlalchemy import func, select

from core_api.db.base import new_id, utcnow
from core_api.db.subscriptions import Invoice, Plan, Subscription
from core_api.deps import AnyStatusUser, ClientDep, CurrentUser, ServicesDep, SessionDep
from core_api.schemas.subscriptions import (
    CancelIn,
    InvoiceOut,
    PlanIn,
    PlanOut,
    SubscribeIn,
    SubscriptionOut,
)
from core_api.services import idempotency, subscriptions
from core_api.services.guards import act, conflict, invalid, not_found
from core_api.services.idempotency import IdempotencyKey
from core_api.services.payments import begin_write
from core_api.services.subscriptions import Step, SubscriptionError

router = APIRouter(prefix="/subscriptions", tags=["subscriptions"])
MAX_LIVE_PLANS = 20  # per seller
_REFUSED = {  # a failed first charge (its event is kept), or a second live subscription
    "insufficient_funds": status.HTTP_402_PAYMENT_REQUIRED,
    "account_locked": status.HTTP_403_FORBIDDEN,
    "ledger_refused": status.HTTP_409_CONFLICT,
    "already_subscribed": status.HTTP_409_CONFLICT,
}


@router.get("/plans", response_model=list[PlanOut])
def plans(
    _me: AnyStatusUser,
    db: SessionDep,
    seller_id: UUID | None = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 50,
) -> Sequence[Plan]:
    """Plans on offer, newest first; ``seller_id`` narrows them to one seller's."""
    query = select(Plan).where(Plan.active.is_(True))
    if seller_id is not None:
        query = query.where(Plan.seller_id == str(seller_id))
    return list(db.scalars(query.order_by(Plan.created_at.desc(), Plan.id).limit(limit)))


@router.post("/plans", status_code=status.HTTP_201_CREATED, response_model=PlanOut)
def create_plan(
    body: PlanIn, me: CurrentUser, db: SessionDep, services: ServicesDep, client: ClientDep
) -> Plan:
    act(services, client, me=me, action="listing_create")  # a plan is an offer, like a listing
    live = select(func.count()).where(Plan.seller_id == me.user.id, Plan.active.is_(True))
    if (db.scalar(live) or 0) >= MAX_LIVE_PLANS:
        raise conflict("too_many_plans")
    plan = Plan(
        id=new_id(),
        seller_id=me.user.id,
        name=body.name,
        price=body.price,
        currency=body.currency,
        billing_interval=body.interval,
        active=True,
        created_at=utcnow(),
    )
    db.add(plan)
    db.commit()
    return plan


@router.get("/plans/{plan_id}", response_model=PlanOut)
def plan(plan_id: UUID, _me: AnyStatusUser, db: SessionDep) -> Plan:
    found = db.get(Plan, str(plan_id))
    if found is None:
        raise not_found("no_such_plan")
    return found


@router.delete("/plans/{plan_id}", status_code=status.HTTP_204_NO_CONTENT)
def withdraw_plan(plan_id: UUID, me: CurrentUser, db: SessionDep) -> Response:
    """No new subscribers; each subscription ends when its paid period does."""
    found = db.get(Plan, str(plan_id))
    if found is None or found.seller_id != me.user.id:
        raise not_found("no_such_plan")
    found.active = False
    db.commit()
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post("", status_code=status.HTTP_201_CREATED, response_model=SubscriptionOut)
def subscribe(
    body: SubscribeIn,
    key: IdempotencyKey,
    me: CurrentUser,
    db: SessionDep,
    services: ServicesDep,
    client: ClientDep,
) -> SubscriptionOut | JSONResponse:
    request = idempotency.keyed(me.user.id, key, route="POST /subscriptions", body=body)
    if (earlier := idempotency.replay(db, request)) is not None:
        return earlier
    found = db.get(Plan, str(body.plan_id))
    if found is None or not found.active:
        raise not_found("no_such_plan")
    if found.seller_id == me.user.id:
        raise invalid("own_plan")
    act(services, client, me=me, action="subscribe")
    step = Step(
        db=db,
        plan=found,
        subscriber_id=me.user.id,
        subject_id=new_id(),
        now=utcnow(),
        context=client.event_context(),
    )

    def work() -> SubscriptionOut:
        return SubscriptionOut.model_validate(subscriptions.subscribe(step))

    try:
        return idempotency.run(db, request, work=work, status_code=status.HTTP_201_CREATED)
    except SubscriptionError as exc:
        if exc.reason == "already_subscribed":
            db.rollback()
        else:
            db.commit()  # the failed charge's event, alone: no money moved, no subscription
        code = _REFUSED.get(exc.reason, status.HTTP_409_CONFLICT)
        raise HTTPException(code, detail={"reason": exc.reason}) from None


@router.get("", response_model=list[SubscriptionOut])
def my_subscriptions(
    me: AnyStatusUser,
    db: SessionDep,
    limit: Annotated[int, Query(ge=1, le=100)] = 50,
) -> Sequence[Subscription]:
    query = (
        select(Subscription)
        .where(Subscription.subscriber_id == me.user.id)
        .order_by(Subscription.created_at.desc(), Subscription.id)
        .limit(limit)
    )
    return list(db.scalars(query))


def _mine(db: SessionDep, subscription_id: UUID, me: AnyStatusUser) -> Subscription:
    found = db.get(Subscription, str(subscription_id))
    if found is None or found.subscriber_id != me.user.id:
        raise not_found("no_such_subscription")
    return found


@router.get("/{subscription_id}", response_model=SubscriptionOut)
def subscription(subscription_id: UUID, me: AnyStatusUser, db: SessionDep) -> Subscription:
    return _mine(db, subscription_id, me)


@router.get("/{subscription_id}/invoices", response_model=list[InvoiceOut])
def invoices(subscription_id: UUID, me: AnyStatusUser, db: SessionDep) -> Sequence[Invoice]:
    sub = _mine(db, subscription_id, me)
    query = select(Invoice).where(Invoice.subscription_id == sub.id).order_by(Invoice.period)
    return list(db.scalars(query))


@router.post("/{subscription_id}/cancel", response_model=SubscriptionOut)
def cancel(
    subscription_id: UUID,
    me: AnyStatusUser,
    db: SessionDep,
    client: ClientDep,
    body: CancelIn | None = None,
) -> Subscription:
    begin_write(db)  # the billing run may be charging it: its row lock comes first
    locked = db.scalar(
        select(Subscription)
        .where(Subscription.id == str(subscription_id))
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    if locked is None or locked.subscriber_id != me.user.id:
        raise not_found("no_such_subscription")
    found = db.get(Plan, locked.plan_id)
    assert found is not None  # a foreign key
    step = Step(
        db=db,
        plan=found,
        subscriber_id=me.user.id,
        subject_id=locked.id,
        now=utcnow(),
        context=client.event_context(),
    )
    try:
        subscriptions.cancel(locked, step, at_period_end=(body or CancelIn()).at_period_end)
    except SubscriptionError as exc:
        raise conflict(exc.reason) from None
    db.commit()
    return locked

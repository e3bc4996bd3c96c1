"""Orders: placing one, reading one's own, and the state machine's steps (``services.orders``).

Only the buyer and the seller can see an order; to anyone else it does not exist (404). Steps
that move escrow money (pay, deliver, resolve) need an ``Idempotency-Key``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Literal
from uuid import UUID

from fastapi import APIRouter, HTTPException, status
from fastapi.responses import JSONResponse
from sqlalchemy import or_, select

from core_api.db.base import new_id
from core_api.db.market import Order
from core_api.deps import ClientDep, CurrentUser, ServicesDep, SessionDep
from core_api.events import EventType
from core_api.routers.payments import ask, ledger_http, money
from core_api.schemas.marketplace import DisputeIn, OrderIn, OrderOut, ResolveIn
from core_api.services import idempotency, orders, payments
from core_api.services.idempotency import IdempotencyKey
from core_api.services.outbox import emit

router = APIRouter(prefix="/orders", tags=["marketplace"])
_STATUS = {
    "not_found": status.HTTP_404_NOT_FOUND,
    "forbidden": status.HTTP_403_FORBIDDEN,
    "conflict": status.HTTP_409_CONFLICT,
    "unprocessable": status.HTTP_422_UNPROCESSABLE_CONTENT,
}


def order_http(exc: orders.OrderError) -> HTTPException:
    return HTTPException(_STATUS[exc.kind], detail={"reason": exc.reason})


@router.post("", status_code=status.HTTP_201_CREATED, response_model=OrderOut)
def place(
    body: OrderIn, me: CurrentUser, db: SessionDep, services: ServicesDep, client: ClientDep
) -> Order:
    ask(services, me, client, "order")
    try:
        order = orders.place(
            db,
            listing_id=str(body.listing_id),
            quantity=body.quantity,
            buyer_id=me.user.id,
            context=client.event_context(),
            search_id=None if body.search_id is None else str(body.search_id),
        )
    except orders.OrderError as exc:
        raise order_http(exc) from None
    db.commit()
    return order


@router.get("", response_model=list[OrderOut])
def my_orders(
    me: CurrentUser, db: SessionDep, role: Literal["buyer", "seller"] | None = None
) -> Sequence[Order]:
    mine = {
        "buyer": Order.buyer_id == me.user.id,
        "seller": Order.seller_id == me.user.id,
        None: or_(Order.buyer_id == me.user.id, Order.seller_id == me.user.id),
    }[role]
    return db.scalars(select(Order).where(mine).order_by(Order.created_at.desc()).limit(200)).all()


@router.get("/{order_id}", response_model=OrderOut)
def one(order_id: UUID, me: CurrentUser, db: SessionDep) -> Order:
    try:
        return orders.visible(db, str(order_id), user_id=me.user.id)
    except orders.OrderError as exc:
        raise order_http(exc) from None


def _step(
    db: SessionDep,
    order_id: UUID,
    step: str,
    *,
    me: CurrentUser,
    client: ClientDep,
    dispute_reason: str | None = None,
) -> OrderOut:
    order = orders.advance(
        db,
        str(order_id),
        step_name=step,
        actor_id=me.user.id,
        context=client.event_context(),
        dispute_reason=dispute_reason,
    )
    return OrderOut.model_validate(order)


def _plain(db: SessionDep, run: Callable[[], OrderOut]) -> OrderOut:
    try:
        out = run()
    except orders.OrderError as exc:
        raise order_http(exc) from None
    db.commit()
    return out


def _keyed(
    db: SessionDep, request: idempotency.Keyed, run: Callable[[], OrderOut]
) -> OrderOut | JSONResponse:
    try:
        return idempotency.run(db, request, work=run, status_code=status.HTTP_200_OK)
    except orders.OrderError as exc:
        raise order_http(exc) from None
    except payments.LedgerError as exc:
        raise ledger_http(exc) from None


@router.post("/{order_id}/pay", response_model=OrderOut)
def pay(
    order_id: UUID, key: IdempotencyKey, me: CurrentUser, db: SessionDep, client: ClientDep
) -> OrderOut | JSONResponse:
    """Buyer wallet -> escrow. A wallet short of the amount is a failed payment (409)."""
    request = idempotency.keyed(me.user.id, key, route=f"POST /marketplace/orders/{order_id}/pay")
    if (earlier := idempotency.replay(db, request)) is not None:
        return earlier
    try:
        return _keyed(db, request, lambda: _step(db, order_id, "pay", me=me, client=client))
    except HTTPException as exc:
        detail: object = exc.detail  # FastAPI's carries any JSON; starlette types it as str
        if detail == {"reason": "insufficient_funds"}:
            _payment_failed(db, str(order_id), client=client)
        raise


def _payment_failed(db: SessionDep, order_id: str, *, client: ClientDep) -> None:
    db.rollback()
    order = db.get(Order, order_id)
    assert order is not None  # it was just read under lock
    emit(
        db,
        EventType.PAYMENT_FAILED,
        actor_id=order.buyer_id,
        subject_id=new_id(),
        payload={
            "amount": money(order.amount),
            "currency": order.currency,
            "payment_method_id": "wallet",
            "purpose": "order",
            "failure_code": "insufficient_funds",
            "order_id": order.id,
        },
        context=client.event_context(),
    )
    db.commit()


@router.post("/{order_id}/ship", response_model=OrderOut)
def ship(order_id: UUID, me: CurrentUser, db: SessionDep, client: ClientDep) -> OrderOut:
    return _plain(db, lambda: _step(db, order_id, "ship", me=me, client=client))


@router.post("/{order_id}/cancel", response_model=OrderOut)
def cancel(order_id: UUID, me: CurrentUser, db: SessionDep, client: ClientDep) -> OrderOut:
    return _plain(db, lambda: _step(db, order_id, "cancel", me=me, client=client))


@router.post("/{order_id}/dispute", response_model=OrderOut)
def dispute(
    order_id: UUID, body: DisputeIn, me: CurrentUser, db: SessionDep, client: ClientDep
) -> OrderOut:
    return _plain(
        db,
        lambda: _step(
            db, order_id, "dispute", me=me, client=client, dispute_reason=body.dispute_reason
        ),
    )


@router.post("/{order_id}/deliver", response_model=OrderOut)
def deliver(
    order_id: UUID,
    key: IdempotencyKey,
    me: CurrentUser,
    db: SessionDep,
    services: ServicesDep,
    client: ClientDep,
) -> OrderOut | JSONResponse:
    """The buyer confirms receipt: escrow is released to the seller (a critical action)."""
    route = f"POST /marketplace/orders/{order_id}/deliver"
    request = idempotency.keyed(me.user.id, key, route=route)
    if (earlier := idempotency.replay(db, request)) is not None:
        return earlier
    one(order_id, me, db)  # strangers get their 404 before anything else
    ask(services, me, client, "escrow_release")
    return _keyed(db, request, lambda: _step(db, order_id, "deliver", me=me, client=client))


@router.post("/{order_id}/resolve", response_model=OrderOut)
def resolve(
    order_id: UUID,
    body: ResolveIn,
    key: IdempotencyKey,
    me: CurrentUser,
    db: SessionDep,
    client: ClientDep,
) -> OrderOut | JSONResponse:
    route = f"POST /marketplace/orders/{order_id}/resolve"
    request = idempotency.keyed(me.user.id, key, route=route, body=body)
    if (earlier := idempotency.replay(db, request)) is not None:
        return earlier
    return _keyed(db, request, lambda: _step(db, order_id, body.outcome, me=me, client=client))

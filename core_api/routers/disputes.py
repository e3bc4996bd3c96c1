"""Dispute arbitration: an admin decides a dispute the buyer and seller did not settle.

``buyer_won`` refunds the escrow to the buyer, ``seller_won`` releases it to the seller; the
order's state machine (``core_api.services.orders``, role ``ARBITER``) moves the money and emits
DISPUTE_RESOLVED with that outcome. Escrow money leaves on the arbiter's word, so the call is the
critical ``escrow_release`` action (a fresh second factor) and needs an ``Idempotency-Key``; an
admin who is the buyer or seller of the order cannot arbitrate it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Query, status
from fastapi.responses import JSONResponse
from sqlalchemy import select

from core_api.db.market import Order
from core_api.deps import ClientDep, ServicesDep, SessionDep
from core_api.routers.admin import AdminUser
from core_api.routers.market_orders import order_http
from core_api.routers.payments import ask, ledger_http
from core_api.schemas.admin import ArbitrationIn
from core_api.schemas.marketplace import OrderOut
from core_api.services import idempotency, orders, payments
from core_api.services.guards import forbidden, not_found
from core_api.services.idempotency import IdempotencyKey

router = APIRouter(prefix="/admin/disputes", tags=["admin"])


@router.get("", response_model=list[OrderOut])
def open_disputes(
    _admin: AdminUser, db: SessionDep, limit: Annotated[int, Query(ge=1, le=200)] = 50
) -> Sequence[Order]:
    query = select(Order).where(Order.status == "disputed")
    return db.scalars(query.order_by(Order.updated_at, Order.id).limit(limit)).all()


@router.post("/{order_id}/resolve", response_model=OrderOut)
def arbitrate(
    order_id: UUID,
    body: ArbitrationIn,
    key: IdempotencyKey,
    admin: AdminUser,
    db: SessionDep,
    services: ServicesDep,
    client: ClientDep,
) -> OrderOut | JSONResponse:
    route = f"POST /admin/disputes/{order_id}/resolve"
    request = idempotency.keyed(admin.user.id, key, route=route, body=body)
    if (earlier := idempotency.replay(db, request)) is not None:
        return earlier
    order = db.get(Order, str(order_id))
    if order is None:
        raise not_found("no_such_order")
    if admin.user.id in (order.buyer_id, order.seller_id):
        raise forbidden("party_to_dispute")
    ask(services, admin, client, "escrow_release")

    def run() -> OrderOut:
        decided = orders.advance(
            db,
            str(order_id),
            step_name=body.outcome,
            actor_id=admin.user.id,
            role=orders.ARBITER,
            context=client.event_context(),
        )
        return OrderOut.model_validate(decided)

    try:
        return idempotency.run(db, request, work=run, status_code=status.HTTP_200_OK)
    except orders.OrderError as exc:
        raise order_http(exc) from None
    except payments.LedgerError as exc:
        raise ledger_http(exc) from None

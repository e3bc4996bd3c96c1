"""An order's escrow: where its money stands (held, released to the seller, refunded to the
buyer), for the order's two parties."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Literal
from uuid import UUID

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict

from core_api.db.escrow import Escrow
from core_api.deps import CurrentUser, SessionDep
from core_api.routers.market_orders import order_http
from core_api.services import escrows, orders
from core_api.services.guards import not_found

router = APIRouter(prefix="/marketplace", tags=["marketplace"])


class EscrowOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    order_id: str
    amount: Decimal
    currency: str
    status: Literal["held", "released", "refunded"]
    held_at: datetime
    settled_at: datetime | None


@router.get("/orders/{order_id}/escrow", response_model=EscrowOut)
def order_escrow(order_id: UUID, me: CurrentUser, db: SessionDep) -> Escrow:
    """404 `no_escrow` until the order is paid."""
    try:
        order = orders.visible(db, str(order_id), user_id=me.user.id)
    except orders.OrderError as exc:
        raise order_http(exc) from None
    found = escrows.of_order(db, order.id)
    if found is None:
        raise not_found("no_escrow")
    return found

"""An order's escrow record, written in the same transaction as the ledger movement it names."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from core_api.db.escrow import Escrow
from core_api.db.market import Order
from core_api.db.money import LedgerTransaction

SETTLES = {"escrow_release": "released", "escrow_refund": "refunded"}


def record(session: Session, order: Order, *, txn: LedgerTransaction) -> Escrow:
    """``txn`` held the order's money in escrow, or released or refunded it."""
    now = datetime.now(UTC)
    if txn.kind == "escrow_hold":
        escrow = Escrow(
            order_id=order.id,
            amount=order.amount,
            currency=order.currency,
            status="held",
            hold_transaction_id=txn.id,
            held_at=now,
        )
        session.add(escrow)
        return escrow
    held = of_order(session, order.id)
    if held is None or held.status != "held":
        # The state machine moves escrow money only out of a hold; anything else is a bug.
        raise RuntimeError(f"order {order.id}: no held escrow to {txn.kind}")
    held.status, held.settle_transaction_id, held.settled_at = SETTLES[txn.kind], txn.id, now
    return held


def of_order(session: Session, order_id: str) -> Escrow | None:
    return session.scalar(select(Escrow).where(Escrow.order_id == order_id))

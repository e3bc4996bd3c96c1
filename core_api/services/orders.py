"""Orders: the state machine, escrow money, and the events of each step.

pending -> paid (buyer; buyer wallet -> escrow) -> shipped (seller) -> delivered (buyer; escrow
-> seller). pending -> cancelled (either party; stock returns). paid or shipped -> disputed
(buyer), then refunded (the seller concedes or an arbiter finds for the buyer; escrow -> buyer),
delivered (an arbiter finds for the seller; escrow -> seller), or back where it was (the buyer
withdraws). Each step locks the order row before any wallet (the ledger's lock order) and
adds its events to the same transaction. An order whose escrow the seller took early against
their credit limit (``services.credit``) moves no money on delivery, and its refund comes back
from the seller (the platform covers what their wallet lacks).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from core_api.db.base import new_id
from core_api.db.market import Listing, Order
from core_api.db.money import LedgerTransaction
from core_api.db.search import Search
from core_api.events import EventType
from core_api.services import credit, escrows, notices, payments
from core_api.services.outbox import emit

ARBITER = "arbiter"  # the role that decides disputes (the admin side); no party holds it


class OrderError(Exception):
    """``reason`` is the API's reason code; ``kind`` picks the status (not_found, forbidden,
    conflict, unprocessable)."""

    def __init__(self, reason: str, *, kind: str = "conflict") -> None:
        super().__init__(reason)
        self.reason, self.kind = reason, kind


@dataclass(frozen=True)
class Step:
    party: str  # buyer, seller, either, arbiter
    sources: tuple[str, ...]
    target: str


STEPS = {
    "pay": Step("buyer", ("pending",), "paid"),
    "cancel": Step("either", ("pending",), "cancelled"),
    "ship": Step("seller", ("paid",), "shipped"),
    "deliver": Step("buyer", ("shipped",), "delivered"),
    "dispute": Step("buyer", ("paid", "shipped"), "disputed"),
    "concede": Step("seller", ("disputed",), "refunded"),
    "withdraw": Step("buyer", ("disputed",), "paid"),  # target: where the dispute came from
    "buyer_won": Step(ARBITER, ("disputed",), "refunded"),
    "seller_won": Step(ARBITER, ("disputed",), "delivered"),
}


def place(
    session: Session,
    *,
    listing_id: str,
    quantity: int,
    buyer_id: str,
    context: dict[str, Any] | None = None,
    search_id: str | None = None,
) -> Order:
    """A pending order for ``quantity`` of the listing, its stock taken under the listing's lock.
    ``search_id``: the buyer's own search it came from (anyone else's does not exist: 404)."""
    if search_id is not None:
        found = session.get(Search, search_id)
        if found is None or found.user_id != buyer_id:
            raise OrderError("no_such_search", kind="not_found")
    payments.begin_write(session)
    listing = session.get(Listing, listing_id, with_for_update=True, populate_existing=True)
    if listing is None or listing.status == "withdrawn":
        raise OrderError("no_such_listing", kind="not_found")
    if listing.seller_id == buyer_id:
        raise OrderError("own_listing", kind="unprocessable")
    if listing.status != "active" or listing.quantity < quantity:
        raise OrderError("out_of_stock")
    amount = listing.price * quantity
    if amount > payments.MAX_MOVEMENT:
        raise OrderError("amount_too_large", kind="unprocessable")
    listing.quantity -= quantity
    if listing.quantity == 0:
        listing.status = "sold_out"
    order = Order(
        id=new_id(),
        listing_id=listing.id,
        buyer_id=buyer_id,
        seller_id=listing.seller_id,
        quantity=quantity,
        amount=amount,
        currency=listing.currency,
        status="pending",
    )
    session.add(order)
    session.flush()
    emit(
        session,
        EventType.ORDER_PLACED,
        actor_id=buyer_id,
        subject_id=order.id,
        payload={
            "listing_id": listing.id,
            "amount": format(amount, "f"),
            "currency": listing.currency,
            "quantity": quantity,
            "seller_id": listing.seller_id,
            "search_id": search_id,
        },
        context=context or {},
    )
    notices.order_changed(session, order, actor_id=buyer_id)
    return order


def visible(session: Session, order_id: str, *, user_id: str) -> Order:
    """The order if ``user_id`` is its buyer or seller; anyone else is told it does not exist."""
    order = session.get(Order, order_id)
    if order is None or user_id not in (order.buyer_id, order.seller_id):
        raise OrderError("not_found", kind="not_found")
    return order


def locked(session: Session, order_id: str) -> Order:
    """The order, locked for this transaction (404 when it does not exist)."""
    payments.begin_write(session)
    order = session.scalar(
        select(Order)
        .where(Order.id == order_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    if order is None:
        raise OrderError("not_found", kind="not_found")
    return order


def advance(
    session: Session,
    order_id: str,
    *,
    step_name: str,
    actor_id: str,
    role: str | None = None,
    context: dict[str, Any] | None = None,
    dispute_reason: str | None = None,
) -> Order:
    """Take one step of the state machine, moving escrow money when the step does."""
    step = STEPS[step_name]
    order = locked(session, order_id)
    party = _party(order, actor_id)
    if party is None and role != ARBITER:
        raise OrderError("not_found", kind="not_found")
    allowed = role == ARBITER if step.party == ARBITER else step.party in (party, "either")
    if not allowed:
        raise OrderError("not_your_step", kind="forbidden")
    if order.status not in step.sources:
        raise OrderError("illegal_transition")
    target = (order.disputed_from or "paid") if step_name == "withdraw" else step.target
    ctx = context or {}
    money = {"amount": format(order.amount, "f"), "currency": order.currency}
    seller = {"seller_id": order.seller_id}
    if step_name == "pay":
        txn = _escrow(session, order, "escrow_hold", actor_id=actor_id)
        emit(
            session,
            EventType.PAYMENT_SUCCESS,
            actor_id=order.buyer_id,
            subject_id=txn.id,
            payload={
                **money,
                "payment_method_id": "wallet",
                "purpose": "order",
                "order_id": order.id,
            },
            context=ctx,
        )
        emit(
            session,
            EventType.ESCROW_HELD,
            actor_id=order.buyer_id,
            subject_id=order.id,
            payload={**money, **seller},
            context=ctx,
        )
    elif step_name in ("deliver", "seller_won") and not credit.released_early(session, order.id):
        _escrow(session, order, "escrow_release", actor_id=actor_id)
        emit(
            session,
            EventType.ESCROW_RELEASED,
            actor_id=order.buyer_id,
            subject_id=order.id,
            payload={**money, **seller},
            context=ctx,
        )
    elif step_name in ("concede", "buyer_won"):
        if credit.released_early(session, order.id):
            credit.refund_after_early_release(session, order, actor_id=actor_id)
        else:
            _escrow(session, order, "escrow_refund", actor_id=actor_id)
        emit(
            session,
            EventType.REFUND_ISSUED,
            actor_id=order.buyer_id,
            subject_id=order.id,
            payload={**money, **seller},
            context=ctx,
        )
    elif step_name == "dispute":
        order.disputed_from, order.dispute_reason = order.status, dispute_reason
        emit(
            session,
            EventType.DISPUTE_OPENED,
            actor_id=actor_id,
            subject_id=order.id,
            payload={"dispute_reason": dispute_reason, **money, **seller},
            context=ctx,
        )
    if step_name in ("concede", "withdraw", "buyer_won", "seller_won"):
        outcome = (
            "withdrawn"
            if step_name == "withdraw"
            else ("seller_won" if step_name == "seller_won" else "buyer_won")
        )
        emit(
            session,
            EventType.DISPUTE_RESOLVED,
            actor_id=actor_id,
            subject_id=order.id,
            payload={"dispute_outcome": outcome, **seller},
            context=ctx,
        )
    if step_name == "cancel":
        _restock(session, order.listing_id, order.quantity)
    order.status = target
    emit(
        session,
        EventType.ORDER_STATUS_CHANGED,
        actor_id=actor_id,
        subject_id=order.id,
        payload={"order_status": target, **seller},
        context=ctx,
    )
    notices.order_changed(session, order, actor_id=actor_id)
    session.flush()
    return order


def _party(order: Order, user_id: str) -> str | None:
    if user_id == order.buyer_id:
        return "buyer"
    return "seller" if user_id == order.seller_id else None


def _escrow(session: Session, order: Order, kind: str, *, actor_id: str) -> LedgerTransaction:
    escrow = payments.escrow_account(order.currency)
    buyer = payments.user_account(order.buyer_id, order.currency)
    seller = payments.user_account(order.seller_id, order.currency)
    source, target = {
        "escrow_hold": (buyer, escrow),
        "escrow_release": (escrow, seller),
        "escrow_refund": (escrow, buyer),
    }[kind]
    txn = payments.move(
        session,
        kind=kind,
        amount=order.amount,
        source=source,
        target=target,
        initiator_id=actor_id,
        order_id=order.id,
    )
    escrows.record(session, order, txn=txn)  # the escrow's status beside the escrow wallet
    return txn


def _restock(session: Session, listing_id: str, quantity: int) -> None:
    listing = session.get(Listing, listing_id, with_for_update=True, populate_existing=True)
    if listing is None:
        return
    listing.quantity += quantity
    if listing.status == "sold_out":
        listing.status = "active"

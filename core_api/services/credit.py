"""Credit: a seller's published limit, and the early escrow release it pays for.

The limit comes from the pipeline (``features.credit``) on the user's score line in the online
store (``serving.keys.Credit``), read in the same round trip as the access decision. A seller
may take an order's escrow before the buyer confirms delivery (``release_early``) while the
money already released early on their open orders (paid, shipped or disputed: not yet
delivered or refunded) plus this order stays within the limit, in the limit's currency. The
ledger is the record: an early release is an ``escrow_release`` transaction with the reference
``EARLY``, made while the order was still open; delivery then moves no money.

If the buyer is refunded after an early release, the escrow pool no longer holds the money:
the refund is taken back from the seller's wallet, and what the wallet lacks is paid from the
platform's ``external`` account, referenced ``CREDIT_LOSS`` (the loss the limit bounds).
Fails closed: no published limit lends nothing, and a store that cannot answer is a 503.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from fastapi import HTTPException, status
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core_api.db.market import Order
from core_api.db.money import ZERO, LedgerTransaction
from core_api.events import EventType
from core_api.services import escrows, payments
from core_api.services.outbox import emit
from serving.keys import Credit
from serving.store import Ask, DecisionStore

EARLY = "early_release"  # ledger reference of an early escrow release
CREDIT_LOSS = "credit_loss"  # ledger reference of a refund the seller's wallet could not cover
OPEN = ("paid", "shipped", "disputed")  # escrow still owed to someone
RELEASABLE = ("paid", "shipped")  # an order whose escrow may go early
UNAVAILABLE = {"reason": "credit_unavailable"}


class CreditError(Exception):
    """``reason`` is the API's reason code; ``code`` the HTTP status; ``extra`` more detail."""

    def __init__(self, reason: str, *, code: int, **extra: Any) -> None:
        super().__init__(reason)
        self.reason, self.code, self.extra = reason, code, extra

    def http(self) -> HTTPException:
        return HTTPException(self.code, detail={"reason": self.reason, **self.extra})


@dataclass(frozen=True)
class Standing:
    """A user's limit as published, and how much of it their open early releases use."""

    limit: Decimal
    currency: str | None
    reasons: tuple[str, ...]
    in_use: Decimal
    score_version: str | None

    @property
    def available(self) -> Decimal:
        return max(self.limit - self.in_use, ZERO)


def published(store: DecisionStore, user_id: str) -> tuple[Credit | None, str | None]:
    """The user's published credit and the version it is from; 503 if the store fails."""
    try:
        facts = store.fetch(Ask(user_id=user_id))
    except Exception:
        raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, detail=UNAVAILABLE) from None
    record = facts.record
    version = facts.manifest.version if facts.manifest else None
    return (record.credit if record is not None else None), version


def in_use(session: Session, seller_id: str, *, currency: str | None) -> Decimal:
    """Money released early on the seller's orders that are still open, in ``currency``."""
    if currency is None:
        return ZERO
    total = session.scalar(
        select(func.coalesce(func.sum(LedgerTransaction.amount), 0))
        .join(Order, Order.id == LedgerTransaction.order_id)
        .where(
            LedgerTransaction.kind == "escrow_release",
            LedgerTransaction.reference == EARLY,
            Order.seller_id == seller_id,
            Order.status.in_(OPEN),
            Order.currency == currency,
        )
    )
    return Decimal(total or 0)


def standing(
    session: Session, user_id: str, *, credit: Credit | None, version: str | None
) -> Standing:
    if credit is None:
        return Standing(ZERO, None, ("no credit limit published yet",), ZERO, version)
    used = in_use(session, user_id, currency=credit.currency)
    return Standing(credit.limit, credit.currency, credit.reasons, used, version)


def released_early(session: Session, order_id: str) -> bool:
    found = select(LedgerTransaction.id).where(
        LedgerTransaction.order_id == order_id,
        LedgerTransaction.kind == "escrow_release",
        LedgerTransaction.reference == EARLY,
    )
    return session.scalar(found.limit(1)) is not None


def release_early(
    session: Session,
    order: Order,
    *,
    credit: Credit | None,
    actor_id: str,
    context: dict[str, Any] | None = None,
) -> Standing:
    """Release a locked order's escrow to its seller now, within the seller's limit."""
    if actor_id != order.seller_id:
        raise CreditError("not_your_step", code=status.HTTP_403_FORBIDDEN)
    if order.status not in RELEASABLE:
        raise CreditError("illegal_transition", code=status.HTTP_409_CONFLICT)
    if released_early(session, order.id):
        raise CreditError("already_released", code=status.HTTP_409_CONFLICT)
    if credit is None or credit.limit <= 0 or credit.currency is None:
        raise CreditError("no_credit_limit", code=status.HTTP_403_FORBIDDEN)
    if credit.currency != order.currency:
        raise CreditError(
            "credit_in_other_currency", code=status.HTTP_409_CONFLICT, currency=credit.currency
        )
    escrow = payments.escrow_account(order.currency)
    seller = payments.user_account(order.seller_id, order.currency)
    payments.lock_wallets(session, [escrow, seller])  # early releases of one seller queue here
    now = standing(session, order.seller_id, credit=credit, version=None)
    if order.amount > now.available:
        raise CreditError(
            "credit_limit_exceeded",
            code=status.HTTP_403_FORBIDDEN,
            available=format(now.available, "f"),
            currency=credit.currency,
        )
    txn = payments.move(
        session,
        kind="escrow_release",
        amount=order.amount,
        source=escrow,
        target=seller,
        initiator_id=actor_id,
        order_id=order.id,
        reference=EARLY,
    )
    escrows.record(session, order, txn=txn)  # the escrow row says released, as on delivery
    emit(
        session,
        EventType.ESCROW_RELEASED,
        actor_id=order.buyer_id,  # as every escrow release: the order's payer
        subject_id=order.id,
        payload={
            "amount": format(order.amount, "f"),
            "currency": order.currency,
            "seller_id": order.seller_id,
        },
        context=context or {},
    )
    session.flush()
    return Standing(credit.limit, credit.currency, credit.reasons, now.in_use + order.amount, None)


def refund_after_early_release(session: Session, order: Order, *, actor_id: str) -> None:
    """Refund the buyer of an order whose escrow already went to the seller: from the seller's
    wallet as far as it goes, the rest from ``external`` (the platform's credit loss)."""
    seller = payments.user_account(order.seller_id, order.currency)
    buyer = payments.user_account(order.buyer_id, order.currency)
    external = payments.external_account(order.currency)
    wallets = payments.lock_wallets(session, [seller, buyer, external])
    recovered = min(wallets[seller.key].balance, order.amount)
    parts = ((seller, recovered, None), (external, order.amount - recovered, CREDIT_LOSS))
    for source, amount, reference in parts:
        if amount > 0:
            payments.move(
                session,
                kind="escrow_refund",
                amount=amount,
                source=source,
                target=buyer,
                initiator_id=actor_id,
                order_id=order.id,
                reference=reference,
            )

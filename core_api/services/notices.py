"""What each flow tells its users: the words and the recipients, for ``notify``.

Each function adds to the caller's session and is called where the flow emits its own event,
so the notice commits or rolls back with it.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy.orm import Session

from core_api.db.identity import User
from core_api.db.market import Order
from core_api.services.notify import notify

_ORDER_TITLES = {
    "pending": "New order",
    "paid": "Order paid",
    "shipped": "Order shipped",
    "delivered": "Order delivered",
    "cancelled": "Order cancelled",
    "disputed": "Order disputed",
    "refunded": "Order refunded",
}
# Review verdicts the user hears of. A cleared or escalated score case is not told: the user
# never knew of it, and telling would show a fraudster where the line is.
_VERDICTS = {
    "confirm": ("Your account has been banned", "A review found activity against our terms."),
    "request_info": (
        "We need more information",
        "A review of your account needs more from you; please reply to our e-mail.",
    ),
}
_APPEALS = {
    "clear": ("Your appeal was granted", "Your account is active again."),
    "confirm": ("Your appeal was refused", "The decision on your account stands."),
}


def _money(amount: Decimal, currency: str) -> str:
    return f"{amount.normalize():f} {currency}"


def order_changed(db: Session, order: Order, *, actor_id: str) -> None:
    """Each party but the one who acted hears of the order's new status (an arbiter's
    ruling reaches both)."""
    title = _ORDER_TITLES[order.status]
    body = f"Order {order.id[:8]} ({_money(order.amount, order.currency)}) is {order.status}."
    for user_id in dict.fromkeys((order.buyer_id, order.seller_id)):
        if user_id != actor_id:
            notify(
                db,
                user_id,
                kind="order_update",
                title=title,
                body=body,
                subject=("order", order.id),
            )


def message_sent(db: Session, *, conversation_id: str, sender: User, recipient_id: str) -> None:
    notify(
        db,
        recipient_id,
        kind="new_message",
        title="New message",
        body=f"{sender.display_name} wrote to you.",  # the text stays in the app
        subject=("conversation", conversation_id),
        coalesce=True,
    )


def payout_completed(
    db: Session, user_id: str, *, amount: Decimal, currency: str, transaction_id: str
) -> None:
    notify(
        db,
        user_id,
        kind="payout",
        title="Payout sent",
        body=f"{_money(amount, currency)} left your wallet. Not you? Contact support now.",
        subject=("transaction", transaction_id),
    )


def review_decided(
    db: Session,
    user_id: str,
    *,
    case_id: str,
    action: str,
    appeal: bool,
    at: datetime | None = None,
) -> None:
    """An appeal's outcome (granted or refused), a ban, or a request for information."""
    outcome = _APPEALS.get(action) if appeal else None
    words = outcome or _VERDICTS.get(action)
    if words is None:
        return
    notify(
        db,
        user_id,
        kind="appeal_outcome" if outcome else "review_decision",
        title=words[0],
        body=words[1],
        subject=("review_case", case_id),
        now=at,
    )


_STATUS_WORDS = {
    "active": "Your account is active again",
    "restricted": "Your account has been restricted",
    "suspended": "Your account has been suspended",
    "banned": "Your account has been banned",
    "closed": "Your account has been closed",
}


def status_changed(db: Session, user_id: str, *, status: str) -> None:
    """Staff changed the account's status by hand (``/admin``)."""
    notify(
        db,
        user_id,
        kind="review_decision",
        title=_STATUS_WORDS[status],
        body="" if status in ("active", "closed") else "You may appeal this decision in the app.",
    )


def review_reversed(db: Session, user_id: str, *, case_id: str, at: datetime) -> None:
    """A senior lifted a ban: the user hears their account is active again."""
    notify(
        db,
        user_id,
        kind="review_decision",
        title="Your account is active again",
        body="A senior review reversed the earlier decision on your account.",
        subject=("review_case", case_id),
        now=at,
    )

"""Subscriptions over the wallet ledger: periods, charging one period, subscribing, cancelling.

A charge moves the plan's price from the subscriber's wallet to the seller's (a ledger
transaction of kind ``subscription``) and marks the period's invoice paid, in the caller's
transaction. Every step emits its event through the outbox and tells the subscriber
(``notify`` kind ``subscription``); the actor of every subscription event is the subscriber,
the payer, as for payments. The billing run (``services.billing``) charges the later periods.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from core_api.db.base import new_id
from core_api.db.identity import User
from core_api.db.money import LedgerTransaction
from core_api.db.subscriptions import Invoice, Plan, Subscription
from core_api.deps import LOCKED
from core_api.events import EventType
from core_api.services import payments
from core_api.services.notify import notify
from core_api.services.outbox import emit

# A failed renewal is tried again this many days after the period's end, then the subscription
# is cancelled as unpaid: four tries in all (at the end, +1, +3 and +7 days).
RETRY_DAYS = (1, 3, 7)


class SubscriptionError(Exception):
    """A subscription step refused; ``reason`` is the API's reason code."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def period_bound(anchor: datetime, interval: str, *, n: int) -> datetime:
    """Where period ``n`` starts: ``n`` intervals after the anchor. Months count from the anchor
    (not from the previous bound), so a subscription started on the 31st renews on the last day
    of shorter months and on the 31st again after them."""
    if interval == "week":
        return anchor + timedelta(weeks=n)
    months = n * (12 if interval == "year" else 1)
    year, month0 = divmod(anchor.month - 1 + months, 12)
    year += anchor.year
    day = min(anchor.day, calendar.monthrange(year, month0 + 1)[1])
    return anchor.replace(year=year, month=month0 + 1, day=day)


def money(amount: Decimal) -> str:
    return format(amount, "f")


@dataclass(frozen=True)
class Step:
    """Who, what and when of one subscription step, for its event and notice."""

    db: Session
    plan: Plan
    subscriber_id: str
    subject_id: str
    now: datetime
    context: dict[str, Any] | None = None

    def emit(self, event_type: EventType, **fields: Any) -> None:
        charged = event_type is not EventType.SUBSCRIPTION_CANCELLED
        money_fields = (
            {"amount": money(self.plan.price), "currency": self.plan.currency} if charged else {}
        )
        emit(
            self.db,
            event_type,
            actor_id=self.subscriber_id,
            subject_id=self.subject_id,
            payload={
                "plan_id": self.plan.id,
                **money_fields,
                "seller_id": self.plan.seller_id,
                **fields,
            },
            context=self.context,
            occurred_at=self.now,
        )

    def tell(self, title: str, body: str) -> None:
        notify(
            self.db,
            self.subscriber_id,
            kind="subscription",
            title=title,
            body=body,
            subject=("subscription", self.subject_id),
            now=self.now,
        )


def charge(step: Step, *, period: int) -> LedgerTransaction | str:
    """Charge ``period`` of the step's subscription: the ledger transaction, or why it failed
    (``account_locked``, ``insufficient_funds``, ``ledger_refused``). No money moves on failure."""
    db = step.db
    subscriber = db.get(User, step.subscriber_id)
    if subscriber is None or subscriber.status in LOCKED:
        return "account_locked"
    try:
        return payments.move(
            db,
            kind="subscription",
            amount=step.plan.price,
            source=payments.user_account(step.subscriber_id, step.plan.currency),
            target=payments.user_account(step.plan.seller_id, step.plan.currency),
            initiator_id=step.subscriber_id,
            reference=f"sub:{step.subject_id}:{period}",
        )
    except payments.LedgerError as exc:  # e.g. the seller's wallet at its limit: said generically
        return exc.reason if exc.reason == "insufficient_funds" else "ledger_refused"


def subscribe(step: Step) -> Subscription:
    """Charge period 0 and start the subscription. On a failed charge the failure event is
    added to the session (the caller commits it alone) and ``SubscriptionError`` raised."""
    db, plan, subscriber_id = step.db, step.plan, step.subscriber_id
    if plan.seller_id == subscriber_id:
        raise SubscriptionError("own_plan")
    live = select(Subscription.id).where(
        Subscription.subscriber_id == subscriber_id,
        Subscription.plan_id == plan.id,
        Subscription.status != "cancelled",
    )
    if db.scalar(live) is not None:
        raise SubscriptionError("already_subscribed")
    outcome = charge(step, period=0)
    if isinstance(outcome, str):
        step.emit(
            EventType.SUBSCRIPTION_PAYMENT_FAILED,
            billing_period=0,
            billing_attempt=1,
            charge_failure=outcome,
        )
        raise SubscriptionError(outcome)
    end = period_bound(step.now, plan.billing_interval, n=1)
    sub = Subscription(
        id=step.subject_id,
        plan_id=plan.id,
        subscriber_id=subscriber_id,
        status="active",
        anchor=step.now,
        period=0,
        period_end=end,
        next_attempt_at=end,
        attempts=0,
        cancel_at_period_end=False,
        created_at=step.now,
        updated_at=step.now,
    )
    db.add(sub)
    db.flush()
    db.add(_paid_invoice(sub, plan, period=0, txn=outcome, now=step.now))
    step.emit(EventType.SUBSCRIPTION_STARTED, billing_interval=plan.billing_interval)
    step.tell(
        f"Subscribed to {plan.name}",
        f"{money(plan.price)} {plan.currency} paid; renews on {end:%Y-%m-%d}.",
    )
    return sub


def _paid_invoice(
    sub: Subscription, plan: Plan, *, period: int, txn: LedgerTransaction, now: datetime
) -> Invoice:
    return Invoice(
        id=new_id(),
        subscription_id=sub.id,
        period=period,
        amount=plan.price,
        currency=plan.currency,
        status="paid",
        attempts=1,
        transaction_id=txn.id,
        created_at=now,
        paid_at=now,
    )


def cancel(sub: Subscription, step: Step, *, at_period_end: bool) -> None:
    """By the subscriber: now, or when the paid period ends (a past-due one ends now: nothing
    of its current period was paid). No refund of the period paid."""
    if sub.status == "cancelled" or (sub.cancel_at_period_end and at_period_end):
        raise SubscriptionError("already_cancelled")
    later = at_period_end and sub.status == "active"
    if later:
        sub.cancel_at_period_end = True
    else:
        end(sub, reason="user", now=step.now)
    sub.updated_at = step.now
    step.emit(EventType.SUBSCRIPTION_CANCELLED, cancel_reason="user", at_period_end=later)
    when = f"on {sub.period_end:%Y-%m-%d}" if later else "now"
    step.tell(f"{step.plan.name}: subscription cancelled", f"It ends {when}; no more charges.")


def end(sub: Subscription, *, reason: str, now: datetime) -> None:
    sub.status, sub.cancel_reason, sub.cancelled_at = "cancelled", reason, now
    sub.next_attempt_at = None

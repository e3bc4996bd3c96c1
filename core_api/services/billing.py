"""The billing run: charge every due subscription for its next period, once.

Each subscription is billed in its own transaction, which first takes the subscription's row
(``FOR UPDATE SKIP LOCKED`` on PostgreSQL, the write lock on SQLite) and checks again that it is
due: a second run at the same time skips what the first holds or has billed, and the invoice's
unique (subscription, period) key stands behind both. A failed charge (an empty wallet, a
locked account) leaves the period's invoice open and is retried ``RETRY_DAYS`` after the
period's end, the subscription ``past_due`` meanwhile; after the last retry it is cancelled as
unpaid. A run catches up one period per subscription: a run missed for two periods bills the
second on the next run.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from core_api.db.base import new_id, utcnow
from core_api.db.identity import User
from core_api.db.money import LedgerTransaction
from core_api.db.subscriptions import Invoice, Plan, Subscription
from core_api.deps import LOCKED
from core_api.events import EventType
from core_api.services.payments import begin_write
from core_api.services.subscriptions import RETRY_DAYS, Step, charge, end, money, period_bound

OUTCOMES = ("renewed", "failed", "cancelled", "ended", "skipped")


@dataclass
class BillingReport:
    """What one run did: subscriptions per outcome, and the money it moved per currency."""

    outcomes: Counter[str] = field(default_factory=Counter)
    charged: dict[str, Decimal] = field(default_factory=dict)

    def line(self) -> str:
        counts = ", ".join(f"{n} {self.outcomes[n]}" for n in OUTCOMES)
        money_moved = ", ".join(f"{money(v)} {c}" for c, v in sorted(self.charged.items()))
        return f"{counts}; charged: {money_moved or 'nothing'}"


def due_ids(db: Session, *, now: datetime, limit: int) -> list[str]:
    query = (
        select(Subscription.id)
        .where(Subscription.status.in_(("active", "past_due")), Subscription.next_attempt_at <= now)
        .order_by(Subscription.next_attempt_at, Subscription.id)
        .limit(limit)
    )
    return list(db.scalars(query))


def run_billing(
    sessions: sessionmaker[Session], *, now: datetime | None = None, limit: int = 100_000
) -> BillingReport:
    """Bill what is due at ``now`` (default: the present), at most ``limit`` subscriptions."""
    now = now or utcnow()
    with sessions() as db:
        ids = due_ids(db, now=now, limit=limit)
    report = BillingReport()
    for sub_id in ids:
        with sessions() as db:
            outcome, amount = _bill_guarded(db, sub_id, now=now)
        report.outcomes[outcome] += 1
        if amount is not None:
            report.charged[amount[1]] = report.charged.get(amount[1], Decimal(0)) + amount[0]
    return report


def _bill_guarded(
    db: Session, sub_id: str, *, now: datetime
) -> tuple[str, tuple[Decimal, str] | None]:
    try:
        outcome, amount = bill_one(db, sub_id, now=now)
        db.commit()
    except IntegrityError:  # the period's invoice came from a run this one did not see
        db.rollback()
        return "skipped", None
    return outcome, amount


def bill_one(db: Session, sub_id: str, *, now: datetime) -> tuple[str, tuple[Decimal, str] | None]:
    """Bill one subscription if it is still due (the caller commits); the outcome, and the
    amount and currency charged if any."""
    begin_write(db)
    sub = db.scalar(
        select(Subscription)
        .where(Subscription.id == sub_id)
        .with_for_update(skip_locked=True)
        .execution_options(populate_existing=True)
    )
    if (
        sub is None
        or sub.status == "cancelled"
        or sub.next_attempt_at is None
        or sub.next_attempt_at > now
    ):
        return "skipped", None
    plan = db.get(Plan, sub.plan_id)
    assert plan is not None  # a foreign key
    step = Step(db=db, plan=plan, subscriber_id=sub.subscriber_id, subject_id=sub.id, now=now)
    sub.updated_at = now
    if sub.cancel_at_period_end:
        end(sub, reason="user", now=sub.period_end)
        return "ended", None
    seller = db.get(User, plan.seller_id)
    if not plan.active or seller is None or seller.status in LOCKED:
        end(sub, reason="plan_ended", now=now)
        step.emit(EventType.SUBSCRIPTION_CANCELLED, cancel_reason="plan_ended", at_period_end=True)
        step.tell(f"{plan.name}: subscription ended", "The seller no longer offers this plan.")
        return "ended", None
    period = sub.period + 1
    invoice = _invoice(db, sub, plan, period=period, now=now)
    outcome = charge(step, period=period)
    invoice.attempts += 1
    if isinstance(outcome, LedgerTransaction):
        _renewed(sub, invoice, step, txn=outcome)
        return "renewed", (plan.price, plan.currency)
    invoice.failure = outcome
    sub.attempts += 1
    step.emit(
        EventType.SUBSCRIPTION_PAYMENT_FAILED,
        billing_period=period,
        billing_attempt=invoice.attempts,
        charge_failure=outcome,
    )
    if sub.attempts > len(RETRY_DAYS):
        invoice.status = "void"
        end(sub, reason="unpaid", now=now)
        step.emit(EventType.SUBSCRIPTION_CANCELLED, cancel_reason="unpaid", at_period_end=False)
        step.tell(
            f"{plan.name}: subscription cancelled",
            f"The renewal failed {sub.attempts} times ({outcome.replace('_', ' ')}).",
        )
        return "cancelled", None
    sub.status = "past_due"
    sub.next_attempt_at = sub.period_end + timedelta(days=RETRY_DAYS[sub.attempts - 1])
    step.tell(
        f"{plan.name}: payment failed",
        f"{money(plan.price)} {plan.currency} could not be charged "
        f"({outcome.replace('_', ' ')}); we try again on {sub.next_attempt_at:%Y-%m-%d}.",
    )
    return "failed", None


def _invoice(db: Session, sub: Subscription, plan: Plan, *, period: int, now: datetime) -> Invoice:
    found = db.scalar(
        select(Invoice).where(Invoice.subscription_id == sub.id, Invoice.period == period)
    )
    if found is not None:
        return found
    invoice = Invoice(
        id=new_id(),
        subscription_id=sub.id,
        period=period,
        amount=plan.price,
        currency=plan.currency,
        status="open",
        attempts=0,
        created_at=now,
    )
    db.add(invoice)
    db.flush()  # the unique (subscription, period) key answers here, before any money moves
    return invoice


def _renewed(sub: Subscription, invoice: Invoice, step: Step, *, txn: LedgerTransaction) -> None:
    plan = step.plan
    invoice.status, invoice.transaction_id, invoice.paid_at = "paid", txn.id, step.now
    invoice.failure = None
    sub.period = invoice.period
    sub.period_end = period_bound(sub.anchor, plan.billing_interval, n=invoice.period + 1)
    sub.next_attempt_at = sub.period_end
    sub.status, sub.attempts = "active", 0
    step.emit(
        EventType.SUBSCRIPTION_RENEWED,
        billing_period=invoice.period,
        billing_attempt=invoice.attempts,
    )
    step.tell(
        f"{plan.name} renewed",
        f"{money(plan.price)} {plan.currency} paid; next renewal on {sub.period_end:%Y-%m-%d}.",
    )

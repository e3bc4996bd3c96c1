"""Subscriptions: sellers' plans, members who subscribe and renew from their wallets, and abuse.

The events follow ``core_api``'s: period 0 is charged when subscribing (a short wallet gives
``SUBSCRIPTION_PAYMENT_FAILED`` with period 0 and no subscription), the billing run charges each
later period at its end (hourly, as a cron would), a failed renewal is retried 1, 3 and 7 days
after the period's end and then cancelled as unpaid. Weekly plans renew every 7 days, monthly
ones every 30 (the API counts calendar months; a three-week run sees few monthly renewals).

Honest members top up before subscribing when short, most top up a short wallet before a
renewal, and most of the others after a failed one.
Card testers, on their first day, try many cheap plans in a burst from a fresh account whose
wallet holds nothing: mostly failures, the odd start funded by a probe, whose renewals then
fail. Mules subscribe with money passing through, and their drained wallets fail the renewals
until the subscription is cancelled unpaid.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import polars as pl

from simulator import catalog as cat
from simulator.base import DAY, HOUR, Day, stream, uniform_times
from simulator.identity import home_context
from simulator.ids import random_uuids
from simulator.payments import Ledger, currency, payment_frames, pm_ids, whole_amounts
from simulator.population import Population
from simulator.wire import EMPTY, Field, frame, obj

INTERVALS = np.array(["week", "month"])
INTERVAL_US = np.array([7 * DAY, 30 * DAY], dtype=np.int64)
RETRY_DAYS = np.array([1, 3, 7], dtype=np.int64)
ACTIVE, PAST_DUE, CANCELLED = 0, 1, 2
HONEST_RATE = 0.006  # chance a member's session starts a subscription
MULE_RATE = 0.08  # a live mule's daily chance of subscribing
QUIT_RATE = 0.01  # an honest active subscription's daily chance of being cancelled
TOP_UP_AFTER_FAILURE = 0.75  # honest members who top up after a failed renewal
KEEP_FUNDED = 0.7  # honest members who top up a short wallet before a renewal
PROBE_FUNDED = 0.1  # a card tester's attempt that a working probe paid for


def _ints(n: int = 0) -> np.ndarray:
    return np.zeros(n, np.int64)


@dataclass
class Subs:
    """Plans (one per offering seller) and the subscriptions to them, as parallel arrays."""

    seller: np.ndarray  # per plan
    plan_id: pl.Series
    cents: np.ndarray  # price in the seller's currency
    interval: np.ndarray  # index into INTERVALS
    sid: pl.Series = field(default_factory=lambda: pl.Series([], dtype=pl.String))
    user: np.ndarray = field(default_factory=_ints)
    plan: np.ndarray = field(default_factory=_ints)
    anchor: np.ndarray = field(default_factory=_ints)
    period: np.ndarray = field(default_factory=_ints)
    attempts: np.ndarray = field(default_factory=_ints)
    due: np.ndarray = field(default_factory=_ints)
    status: np.ndarray = field(default_factory=_ints)
    leave: np.ndarray = field(default_factory=lambda: np.zeros(0, bool))

    @classmethod
    def offer(cls, pop: Population, *, seed: int) -> Subs:
        rng = stream(seed, "subscription_plans")
        seller = np.flatnonzero(pop.is_seller & pop.honest_life() & (rng.random(pop.n) < 0.3))
        cents = whole_amounts(rng, usd_median=6, sigma=0.6, fx=cat.FX[pop.country[seller]])
        interval = (rng.random(seller.size) < 0.4).astype(np.int64)
        return cls(seller, random_uuids(rng, seller.size), cents, interval)

    def period_end(self, rows: np.ndarray) -> np.ndarray:
        step = INTERVAL_US[self.interval[self.plan[rows]]]
        return self.anchor[rows] + (self.period[rows] + 1) * step

    def add(self, *, user: np.ndarray, plan: np.ndarray, ts: np.ndarray, sid: pl.Series) -> None:
        n = user.size
        self.sid = pl.concat([self.sid, sid])
        self.user = np.concatenate([self.user, user])
        self.plan = np.concatenate([self.plan, plan])
        self.anchor = np.concatenate([self.anchor, ts])
        self.period = np.concatenate([self.period, _ints(n)])
        self.attempts = np.concatenate([self.attempts, _ints(n)])
        self.status = np.concatenate([self.status, np.full(n, ACTIVE, np.int64)])
        self.leave = np.concatenate([self.leave, np.zeros(n, bool)])
        self.due = np.concatenate([self.due, ts + INTERVAL_US[self.interval[plan]]])


def events(
    pop: Population,
    subs: Subs,
    et: str,
    *,
    user: np.ndarray,
    plan: np.ndarray,
    subject: pl.Series,
    ts: np.ndarray,
    extra: list[Field],
    ctx: pl.Series | None = None,
) -> pl.DataFrame:
    """One event type (payload fields in the contract's order); billing events carry no context."""
    if user.size == 0:
        return EMPTY
    seller = subs.seller[plan]
    fields: list[Field] = [("plan_id", "s", subs.plan_id.gather(plan))]
    if et != "SUBSCRIPTION_CANCELLED":
        fields += [("amount", "m", subs.cents[plan]), ("currency", "s", currency(pop, seller))]
    fields += [("seller_id", "s", pop.uid.gather(seller)), *extra]
    return frame(
        et,
        ts,
        actor=pop.uid.gather(user),
        subject=subject,
        payload=obj(user.size, fields),
        ctx=ctx,
    )


def sub_events(
    pop: Population,
    subs: Subs,
    et: str,
    rows: np.ndarray,
    *,
    ts: np.ndarray,
    extra: list[Field],
    ctx: pl.Series | None = None,
) -> pl.DataFrame:
    """``events`` of the subscriptions at ``rows`` (indices into ``subs``)."""
    return events(
        pop,
        subs,
        et,
        user=subs.user[rows],
        plan=subs.plan[rows],
        subject=subs.sid.gather(rows),
        ts=ts,
        extra=extra,
        ctx=ctx,
    )


def _running_cost(user: np.ndarray, cents: np.ndarray) -> np.ndarray:
    """Per row, what the user's rows up to it cost (rows sorted by user, then time)."""
    total = np.cumsum(cents)
    first = np.r_[True, user[1:] != user[:-1]]
    start = np.maximum.accumulate(np.where(first, np.arange(user.size), 0))
    return total - np.r_[0, total][start]


def bill(pop: Population, subs: Subs, *, ledger: Ledger, day: Day) -> list[pl.DataFrame]:
    """The day's billing runs: renew what is due, fail and retry what the wallet cannot pay."""
    rng = day.rng("subscription_billing")
    rows = np.flatnonzero((subs.status != CANCELLED) & (subs.due < day.d1))
    if rows.size == 0:
        return []
    ts = subs.due[rows] + uniform_times(rng, rows.size, lo=0, hi=HOUR)
    order = np.lexsort((ts, subs.user[rows]))
    rows, ts = rows[order], ts[order]
    leaving = subs.leave[rows]
    subs.status[rows[leaving]] = CANCELLED  # cancelled at the period's end: no event
    seller = subs.seller[subs.plan[rows]]
    ended = ~leaving & (pop.banned_us[seller] <= ts)
    plan_ended: list[Field] = [("cancel_reason", "s", "plan_ended"), ("at_period_end", "b", True)]
    out = [
        sub_events(pop, subs, "SUBSCRIPTION_CANCELLED", rows[ended], ts=ts[ended], extra=plan_ended)
    ]
    subs.status[rows[ended]] = CANCELLED
    keep = ~leaving & ~ended
    rows, ts = rows[keep], ts[keep]
    user, cents = subs.user[rows], subs.cents[subs.plan[rows]]
    locked = pop.banned_us[user] <= ts
    out.append(_keep_funded(pop, user=user, cents=cents, ts=ts, rng=rng, floor=day.d0))
    pays = ~locked & (pop.balance[user] >= _running_cost(user, np.where(locked, 0, cents)))
    ok, bad = rows[pays], rows[~pays]
    np.subtract.at(pop.balance, user[pays], cents[pays])
    ledger.credit(ts=ts[pays], user=subs.seller[subs.plan[ok]], cents=cents[pays])
    out.append(
        sub_events(
            pop,
            subs,
            "SUBSCRIPTION_RENEWED",
            ok,
            ts=ts[pays],
            extra=[
                ("billing_period", "i", subs.period[ok] + 1),
                ("billing_attempt", "i", subs.attempts[ok] + 1),
            ],
        )
    )
    subs.period[ok] += 1
    subs.attempts[ok] = 0
    subs.status[ok] = ACTIVE
    subs.due[ok] = subs.period_end(ok)
    out += _failed(pop, subs, rows=bad, ts=ts[~pays], locked=locked[~pays], ledger=ledger, rng=rng)
    return out


def _keep_funded(
    pop: Population,
    *,
    user: np.ndarray,
    cents: np.ndarray,
    ts: np.ndarray,
    rng: np.random.Generator,
    floor: int,
) -> pl.DataFrame:
    """Most members see a renewal coming and top up a short wallet the day before."""
    short = (pop.typology[user] == 0) & (pop.balance[user] < _running_cost(user, cents))
    short &= rng.random(user.size) < KEEP_FUNDED
    who = user[short]
    amount = cents[short] + 100 * np.ceil(10 * cat.FX[pop.country[who]]).astype(np.int64)
    np.add.at(pop.balance, who, amount)
    at = np.maximum(ts[short] - uniform_times(rng, who.size, lo=HOUR, hi=DAY), floor)
    return top_ups(pop, who=who, ts=at, cents=amount, rng=rng)


def _failed(
    pop: Population,
    subs: Subs,
    *,
    rows: np.ndarray,
    ts: np.ndarray,
    locked: np.ndarray,
    ledger: Ledger,
    rng: np.random.Generator,
) -> list[pl.DataFrame]:
    subs.attempts[rows] += 1
    why = np.where(locked, "account_locked", "insufficient_funds")
    out = [
        sub_events(
            pop,
            subs,
            "SUBSCRIPTION_PAYMENT_FAILED",
            rows,
            ts=ts,
            extra=[
                ("billing_period", "i", subs.period[rows] + 1),
                ("billing_attempt", "i", subs.attempts[rows]),
                ("charge_failure", "s", pl.Series(why)),
            ],
        )
    ]
    over = subs.attempts[rows] > RETRY_DAYS.size
    gone = rows[over]
    unpaid: list[Field] = [("cancel_reason", "s", "unpaid"), ("at_period_end", "b", False)]
    out.append(sub_events(pop, subs, "SUBSCRIPTION_CANCELLED", gone, ts=ts[over] + 1, extra=unpaid))
    subs.status[gone] = CANCELLED
    retry = rows[~over]
    subs.status[retry] = PAST_DUE
    subs.due[retry] = subs.period_end(retry) + RETRY_DAYS[subs.attempts[retry] - 1] * DAY
    # Honest members read the notice and top up before the retry; the money is there next day.
    user = subs.user[retry]
    topping = (pop.typology[user] == 0) & ~locked[~over]
    topping &= rng.random(retry.size) < TOP_UP_AFTER_FAILURE
    who, at = (
        user[topping],
        ts[~over][topping] + uniform_times(rng, int(topping.sum()), lo=HOUR, hi=20 * HOUR),
    )
    amount = subs.cents[subs.plan[retry[topping]]] + 100 * np.ceil(
        10 * cat.FX[pop.country[who]]
    ).astype(np.int64)
    ledger.credit(ts=at, user=who, cents=amount)
    out.append(top_ups(pop, who=who, ts=at, cents=amount, rng=rng))
    return out


def top_ups(
    pop: Population, *, who: np.ndarray, ts: np.ndarray, cents: np.ndarray, rng: np.random.Generator
) -> pl.DataFrame:
    return payment_frames(
        pop,
        ok=True,
        payer=who,
        ts=ts,
        cents=cents,
        cur=currency(pop, who),
        pm=pm_ids(pop.pm[who]),
        ctx=home_context(pop, who),
        rng=rng,
    )

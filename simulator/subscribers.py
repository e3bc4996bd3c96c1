"""Who subscribes each day: members from their sessions, card testers in a burst on their first
day, mules with money passing through; and members who cancel. Renewals: ``subscriptions.bill``.
"""

from __future__ import annotations

import numpy as np
import polars as pl

from simulator import catalog as cat
from simulator.base import HOUR, MINUTE, Day, uniform_times
from simulator.fraud_setup import FraudState, live
from simulator.identity import Sessions, home_context
from simulator.ids import random_uuids
from simulator.payments import Ledger
from simulator.population import Population
from simulator.subscriptions import (
    ACTIVE,
    CANCELLED,
    HONEST_RATE,
    INTERVALS,
    MULE_RATE,
    PROBE_FUNDED,
    QUIT_RATE,
    Subs,
    bill,
    events,
    sub_events,
    top_ups,
)

TESTER_TRIES = (3, 11)  # subscribe attempts in a tester's burst, [lo, hi): the API allows 10 a day


def daily(
    pop: Population,
    st: FraudState,
    *,
    subs: Subs,
    ledger: Ledger,
    sess: Sessions,
    day: Day,
) -> list[pl.DataFrame]:
    if subs.seller.size == 0:
        return []
    rng = day.rng("subscriptions")
    out = bill(pop, subs, ledger=ledger, day=day)
    out += _quits(pop, subs, day=day, rng=rng)
    honest = np.flatnonzero((pop.typology[sess.user] == 0) & (rng.random(len(sess)) < HONEST_RATE))
    user = sess.user[honest]
    ts = sess.ts[honest] + uniform_times(rng, honest.size, lo=MINUTE, hi=10 * MINUTE)
    out += _subscribe(
        pop,
        subs,
        ledger=ledger,
        user=user,
        plan=_same_currency_plan(pop, subs, user=user, rng=rng),
        ts=ts,
        ctx=sess.ctx.gather(honest),
        funded=np.zeros(user.size, bool),
        top_up=rng.random(user.size) < 0.8,
        rng=rng,
    )
    out += _card_testers(pop, st, subs=subs, ledger=ledger, day=day, rng=rng)
    mules = live(pop, st.mules, t=day.d0)
    mules = mules[rng.random(mules.size) < MULE_RATE]
    ts = uniform_times(rng, mules.size, lo=day.d0, hi=day.d1)
    out += _subscribe(
        pop,
        subs,
        ledger=ledger,
        user=mules,
        plan=_same_currency_plan(pop, subs, user=mules, rng=rng),
        ts=ts,
        ctx=home_context(pop, mules),
        funded=rng.random(mules.size) < 0.5,  # paid from a deposit on its way through
        top_up=np.zeros(mules.size, bool),
        rng=rng,
    )
    return out


def _same_currency_plan(
    pop: Population, subs: Subs, *, user: np.ndarray, rng: np.random.Generator
) -> np.ndarray:
    """A random plan in each user's currency (-1 where there is none)."""
    plan_cur = cat.CURRENCY[pop.country[subs.seller]]
    order = np.argsort(plan_cur, kind="stable")
    keys = plan_cur[order]
    want = cat.CURRENCY[pop.country[user]]
    lo, hi = np.searchsorted(keys, want, "left"), np.searchsorted(keys, want, "right")
    pick = lo + (rng.random(user.size) * np.maximum(hi - lo, 1)).astype(np.int64)
    return np.where(hi > lo, order[np.minimum(pick, keys.size - 1)], -1)


def _subscribe(
    pop: Population,
    subs: Subs,
    *,
    ledger: Ledger,
    user: np.ndarray,
    plan: np.ndarray,
    ts: np.ndarray,
    ctx: pl.Series,
    funded: np.ndarray,
    top_up: np.ndarray,
    rng: np.random.Generator,
) -> list[pl.DataFrame]:
    """Attempts to subscribe: what the API would see past its checks (a plan of someone else's,
    none already live for the pair); each charges period 0 or fails with its event."""
    live_keys = (
        subs.user[subs.status != CANCELLED] * subs.seller.size + subs.plan[subs.status != CANCELLED]
    )
    key = user * subs.seller.size + plan
    ok = (plan >= 0) & ~np.isin(key, live_keys)
    ok &= subs.seller[np.maximum(plan, 0)] != user
    first = np.zeros(key.size, bool)
    first[np.unique(key, return_index=True)[1]] = True
    ok &= first  # one attempt per pair at once
    user, plan, ts, funded, top_up = user[ok], plan[ok], ts[ok], funded[ok], top_up[ok]
    ctx = ctx.filter(pl.Series(ok)) if ok.size else ctx
    cents = subs.cents[plan]
    short = ~funded & (pop.balance[user] < cents)
    fill = np.flatnonzero(short & top_up)
    out: list[pl.DataFrame] = []
    if fill.size:
        amount = (
            cents[fill]
            - pop.balance[user[fill]]
            + 100 * np.ceil(5 * cat.FX[pop.country[user[fill]]]).astype(np.int64)
        )
        np.add.at(pop.balance, user[fill], amount)
        out.append(
            top_ups(
                pop,
                who=user[fill],
                ts=ts[fill] - uniform_times(rng, fill.size, lo=MINUTE, hi=5 * MINUTE),
                cents=amount,
                rng=rng,
            )
        )
    fails = short & ~top_up
    sid = random_uuids(rng, user.size)
    bad = np.flatnonzero(fails)
    out.append(
        events(
            pop,
            subs,
            "SUBSCRIPTION_PAYMENT_FAILED",
            user=user[bad],
            plan=plan[bad],
            subject=sid.gather(bad),
            ts=ts[bad],
            extra=[
                ("billing_period", "i", 0),
                ("billing_attempt", "i", 1),
                ("charge_failure", "s", "insufficient_funds"),
            ],
            ctx=ctx.gather(bad),
        )
    )
    good = np.flatnonzero(~fails)
    paid = good[~funded[good]]
    np.subtract.at(pop.balance, user[paid], cents[paid])
    pop.balance[user[paid]] = np.maximum(pop.balance[user[paid]], 0)
    ledger.credit(ts=ts[good], user=subs.seller[plan[good]], cents=cents[good])
    out.append(
        events(
            pop,
            subs,
            "SUBSCRIPTION_STARTED",
            user=user[good],
            plan=plan[good],
            subject=sid.gather(good),
            ts=ts[good],
            extra=[("billing_interval", "s", pl.Series(INTERVALS[subs.interval[plan[good]]]))],
            ctx=ctx.gather(good),
        )
    )
    subs.add(user=user[good], plan=plan[good], ts=ts[good], sid=sid.gather(good))
    return out


def _card_testers(
    pop: Population,
    st: FraudState,
    *,
    subs: Subs,
    ledger: Ledger,
    day: Day,
    rng: np.random.Generator,
) -> list[pl.DataFrame]:
    """Fresh tester accounts try the cheapest plans in a burst; their wallets hold nothing."""
    new = st.testers[(pop.fraud_from[st.testers] >= day.d0) & (pop.fraud_from[st.testers] < day.d1)]
    k = rng.integers(*TESTER_TRIES, new.size)
    who = np.repeat(new, k)
    start = pop.fraud_from[new] + uniform_times(rng, new.size, lo=15 * MINUTE, hi=3 * HOUR)
    ts = np.repeat(start, k) + uniform_times(rng, who.size, lo=0, hi=30 * MINUTE)
    usd = subs.cents / cat.FX[pop.country[subs.seller]]
    cheap = np.argsort(usd, kind="stable")[: max(20, subs.seller.size // 10)]
    plan = cheap[rng.integers(0, cheap.size, who.size)]
    order = np.lexsort((plan, who))
    who, ts, plan = who[order], ts[order], plan[order]
    return _subscribe(
        pop,
        subs,
        ledger=ledger,
        user=who,
        plan=plan,
        ts=ts,
        ctx=home_context(pop, who),
        funded=rng.random(who.size) < PROBE_FUNDED,
        top_up=np.zeros(who.size, bool),
        rng=rng,
    )


def _quits(
    pop: Population, subs: Subs, *, day: Day, rng: np.random.Generator
) -> list[pl.DataFrame]:
    rows = np.flatnonzero(
        (subs.status == ACTIVE)
        & ~subs.leave
        & (pop.typology[subs.user] == 0)
        & (rng.random(subs.status.size) < QUIT_RATE)
    )
    ts = uniform_times(rng, rows.size, lo=day.d0, hi=day.d1)
    inside = (ts < subs.due[rows]) & (ts > subs.anchor[rows])
    rows, ts = rows[inside], ts[inside]
    subs.leave[rows] = True
    return [
        sub_events(
            pop,
            subs,
            "SUBSCRIPTION_CANCELLED",
            rows,
            ts=ts,
            extra=[("cancel_reason", "s", "user"), ("at_period_end", "b", True)],
            ctx=home_context(pop, subs.user[rows]),
        )
    ]

"""Money typologies: card testing, scam sellers, money mules and account takeover."""

from __future__ import annotations

import numpy as np
import polars as pl

from simulator import catalog as cat
from simulator.base import DAY, HOUR, MINUTE, Day, exp_delay, uniform_times
from simulator.fraud_setup import FraudState
from simulator.identity import home_context
from simulator.market import Market, listing_frames, place_orders
from simulator.payments import (
    Ledger,
    convert,
    currency,
    payment_frames,
    payout_frames,
    pm_ids,
    transfer_frames,
    whole_amounts,
)
from simulator.population import Population
from simulator.social import Graph


def live(pop: Population, users: np.ndarray, *, t: int) -> np.ndarray:
    return users[(pop.fraud_from[users] < t) & (pop.banned_us[users] > t)]


def mule_for(
    pop: Population, st: FraudState, *, ts: np.ndarray, rng: np.random.Generator
) -> np.ndarray:
    """A mule already in business at each time (the earliest one if none is yet)."""
    ready = st.mules[np.argsort(pop.fraud_from[st.mules])]
    n_ready = np.searchsorted(np.sort(pop.fraud_from[st.mules]), ts)
    pick = (rng.random(ts.size) * np.maximum(n_ready, 1)).astype(np.int64)
    return ready[pick]


def cash_out(
    pop: Population,
    st: FraudState,
    *,
    mule: np.ndarray,
    ts: np.ndarray,
    cents: np.ndarray,
    rng: np.random.Generator,
) -> list[pl.DataFrame]:
    """Mules move money on within minutes to hours: mostly to a bank, sometimes to a mule."""
    later = ts + exp_delay(rng, mule.size, mean=90 * MINUTE) + 2 * MINUTE
    layer = (rng.random(mule.size) < 0.12) & (st.mules.size > 1)
    out: list[pl.DataFrame] = []
    nxt = st.mules[rng.integers(0, st.mules.size, mule.size)]
    lay = np.flatnonzero(layer & (nxt != mule))
    out.append(
        transfer_frames(
            pop,
            None,
            sender=mule[lay],
            receiver=nxt[lay],
            ts=later[lay],
            cents=cents[lay],
            ctx=home_context(pop, mule[lay]),
            rng=rng,
        )
    )
    fwd = convert(pop, cents[lay], src=mule[lay], dst=nxt[lay])
    out += payout_frames(
        pop,
        user=nxt[lay],
        ts=later[lay] + exp_delay(rng, lay.size, mean=HOUR),
        cents=fwd,
        dest=pop.bank[nxt[lay]],
        ctx=home_context(pop, nxt[lay]),
        rng=rng,
        complete_after=uniform_times(rng, lay.size, lo=12 * HOUR, hi=2 * DAY),
    )
    po = np.flatnonzero(~np.isin(np.arange(mule.size), lay))
    out += payout_frames(
        pop,
        user=mule[po],
        ts=later[po],
        cents=cents[po],
        dest=pop.bank[mule[po]],
        ctx=home_context(pop, mule[po]),
        rng=rng,
        complete_after=uniform_times(rng, po.size, lo=12 * HOUR, hi=2 * DAY),
    )
    return out


def send_to_mules(
    pop: Population,
    st: FraudState,
    *,
    sender: np.ndarray,
    ts: np.ndarray,
    cents: np.ndarray,
    ctx: pl.Series,
    rng: np.random.Generator,
) -> list[pl.DataFrame]:
    mule = mule_for(pop, st, ts=ts, rng=rng)
    ok = mule != sender
    sender, ts, cents, mule = sender[ok], ts[ok], cents[ok], mule[ok]
    out = [
        transfer_frames(
            pop,
            None,
            sender=sender,
            receiver=mule,
            ts=ts,
            cents=cents,
            ctx=ctx.filter(pl.Series(ok)),
            rng=rng,
        )
    ]
    return out + cash_out(
        pop, st, mule=mule, ts=ts, cents=convert(pop, cents, src=sender, dst=mule), rng=rng
    )


def card_testing(
    pop: Population, st: FraudState, *, mk: Market, graph: Graph, ledger: Ledger, day: Day
) -> list[pl.DataFrame]:
    rng = day.rng("card_testing")
    out: list[pl.DataFrame] = []
    # The test burst: dozens of tiny top-ups across many cards within the first hours.
    new = st.testers[(pop.fraud_from[st.testers] >= day.d0) & (pop.fraud_from[st.testers] < day.d1)]
    k = rng.integers(12, 40, new.size)
    who = np.repeat(new, k)
    t0 = np.repeat(
        pop.fraud_from[new] + uniform_times(rng, new.size, lo=10 * MINUTE, hi=3 * HOUR), k
    )
    ts = t0 + (rng.random(who.size) * 75 * MINUTE).astype(np.int64)
    cards = np.array([rng.choice(st.test_cards[int(u)]) for u in who], dtype=np.int64)
    cents = rng.integers(50, 501, who.size)
    ok = rng.random(who.size) < 0.15
    ctx = home_context(pop, who)
    f = np.flatnonzero(~ok)
    out.append(
        payment_frames(
            pop,
            ok=False,
            payer=who[f],
            ts=ts[f],
            cents=cents[f],
            cur=currency(pop, who[f]),
            pm=pm_ids(cards[f]),
            ctx=ctx.gather(f),
            rng=rng,
            codes=rng.choice(6, size=f.size, p=[0.15, 0.3, 0.2, 0.15, 0.1, 0.1]),
        )
    )
    s = np.flatnonzero(ok)
    out.append(
        payment_frames(
            pop,
            ok=True,
            payer=who[s],
            ts=ts[s],
            cents=cents[s],
            cur=currency(pop, who[s]),
            pm=pm_ids(cards[s]),
            ctx=ctx.gather(s),
            rng=rng,
        )
    )
    # Cashing in: big orders and big top-ups on the cards that worked, money sent to mules.
    act = live(pop, st.testers, t=day.d0)
    fresh_cards = day.d0 - pop.fraud_from[act] < 7 * DAY  # issuers block stolen cards soon
    act = act[fresh_cards & (rng.random(act.size) < 0.3)]
    if act.size:
        cards = np.array([st.test_cards[int(u)][0] for u in act], dtype=np.int64)
        t = uniform_times(rng, act.size, lo=day.d0, hi=day.d1)
        open_ = np.flatnonzero(
            ~mk.sold & (mk.ts < day.d0) & ~mk.scam & np.isin(mk.category, [0, 7])
        )
        if open_.size:
            pick = open_[np.argsort(-mk.relative_price(pop, open_))][: act.size]
            m = pick.size
            mk.sold[pick] = True
            out += place_orders(
                pop,
                mk,
                graph=graph,
                ledger=ledger,
                buyer=act[:m],
                listing=pick,
                ts=t[:m],
                ctx=home_context(pop, act[:m]),
                pm=pm_ids(cards[:m]),
                rng=rng,
            )
        big = whole_amounts(rng, usd_median=400, sigma=0.5, fx=cat.FX[pop.country[act]])
        tu = t + uniform_times(rng, act.size, lo=HOUR, hi=4 * HOUR)
        out.append(
            payment_frames(
                pop,
                ok=True,
                payer=act,
                ts=tu,
                cents=big,
                cur=currency(pop, act),
                pm=pm_ids(cards),
                ctx=home_context(pop, act),
                rng=rng,
            )
        )
        out += send_to_mules(
            pop,
            st,
            sender=act,
            ts=tu + uniform_times(rng, act.size, lo=3 * MINUTE, hi=HOUR),
            cents=big,
            ctx=home_context(pop, act),
            rng=rng,
        )
    return out


def scam_selling(pop: Population, st: FraudState, *, mk: Market, day: Day) -> list[pl.DataFrame]:
    rng = day.rng("scam_selling")
    act = live(pop, st.scammers, t=day.d1)
    act = np.repeat(act, rng.poisson(0.8, act.size))
    t = np.maximum(
        uniform_times(rng, act.size, lo=day.d0, hi=day.d1), pop.fraud_from[act] + 20 * MINUTE
    )
    keep = t < day.d1
    act, t = act[keep], t[keep]
    return [
        listing_frames(
            pop,
            mk,
            seller=act,
            ts=t,
            ctx=home_context(pop, act),
            rng=rng,
            category=pop.seller_cat[act].astype(np.int64),
            price_factor=rng.uniform(0.3, 0.6, act.size),
            scam=True,
        )
    ]


def mule_inflows(pop: Population, st: FraudState, *, day: Day) -> list[pl.DataFrame]:
    """Fan-in: scam victims persuaded to 'send a deposit' to accounts they never met."""
    rng = day.rng("mule_inflows")
    act = live(pop, st.mules, t=day.d1)
    mule = np.repeat(act, rng.poisson(1.6, act.size))
    honest = np.flatnonzero((pop.typology == 0) & (pop.reg_us < day.d0) & (pop.banned_us > day.d1))
    if honest.size == 0 or mule.size == 0:
        return []
    victim = honest[rng.integers(0, honest.size, mule.size)]
    ts = np.maximum(
        uniform_times(rng, mule.size, lo=day.d0, hi=day.d1), pop.fraud_from[mule] + MINUTE
    )
    cents = whole_amounts(rng, usd_median=150, sigma=0.6, fx=cat.FX[pop.country[victim]])
    ctx = home_context(pop, victim)
    top = ts - uniform_times(rng, mule.size, lo=2 * MINUTE, hi=30 * MINUTE)
    out = [
        payment_frames(
            pop,
            ok=True,
            payer=victim,
            ts=top,
            cents=cents,
            cur=currency(pop, victim),
            pm=pm_ids(pop.pm[victim]),
            ctx=ctx,
            rng=rng,
        )
    ]
    pop.balance[victim] += cents
    out.append(
        transfer_frames(
            pop, None, sender=victim, receiver=mule, ts=ts, cents=cents, ctx=ctx, rng=rng
        )
    )
    return out + cash_out(
        pop, st, mule=mule, ts=ts, cents=convert(pop, cents, src=victim, dst=mule), rng=rng
    )

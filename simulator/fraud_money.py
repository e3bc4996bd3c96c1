"""Money typologies: card testing and scam sellers (mules in ``fraud_mules``)."""

from __future__ import annotations

import numpy as np
import polars as pl

from simulator import catalog as cat
from simulator.base import DAY, HOUR, MINUTE, Day, uniform_times
from simulator.fraud_mules import send_to_mules
from simulator.fraud_setup import FraudState, live
from simulator.identity import home_context
from simulator.market import Market, listing_frames, place_orders
from simulator.payments import (
    Ledger,
    currency,
    payment_frames,
    pm_ids,
    whole_amounts,
)
from simulator.population import Population
from simulator.social import Graph


def card_testing(
    pop: Population, st: FraudState, *, mk: Market, graph: Graph, ledger: Ledger, day: Day
) -> list[pl.DataFrame]:
    rng = day.rng("card_testing")
    tac = st.tactics
    out: list[pl.DataFrame] = []
    # The test burst: dozens of tiny top-ups across many cards within the first hours.
    new = st.testers[(pop.fraud_from[st.testers] >= day.d0) & (pop.fraud_from[st.testers] < day.d1)]
    k = rng.integers(*tac.test_probes, new.size)
    who = np.repeat(new, k)
    t0 = np.repeat(
        pop.fraud_from[new] + uniform_times(rng, new.size, lo=10 * MINUTE, hi=3 * HOUR), k
    )
    ts = t0 + (rng.random(who.size) * tac.test_within).astype(np.int64)
    cards = np.array([rng.choice(st.test_cards[int(u)]) for u in who], dtype=np.int64)
    cents = rng.integers(*tac.test_cents, who.size)
    if tac.hard:
        # Probes priced like small purchases where the tester appears to live (US cents there).
        cents = np.maximum(1, (cents * cat.FX[pop.country[who]]).astype(np.int64))
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
    st.losses.add(pop, "card_testing", user=who[s], at=ts[s], cents=cents[s])
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
    act = act[fresh_cards & (rng.random(act.size) < tac.cash_in_rate)]
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
        big = whole_amounts(rng, usd_median=tac.cash_in_usd, sigma=0.5, fx=cat.FX[pop.country[act]])
        tu = t + uniform_times(rng, act.size, lo=HOUR, hi=4 * HOUR)
        st.losses.add(pop, "card_testing", user=act, at=tu, cents=big)
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
    act = np.repeat(act, rng.poisson(st.tactics.scam_listings, act.size))
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
            price_factor=rng.uniform(*st.tactics.scam_price, act.size),
            scam=True,
        )
    ]

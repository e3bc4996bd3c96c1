"""Sybil rings: burst sign-ups that vouch for each other, trade among themselves, then scam.

Crews are handled all at once (grouped by their cluster id), not one Python loop per crew.
"""

from __future__ import annotations

import numpy as np
import polars as pl

from simulator.base import (
    DAY,
    HOUR,
    MINUTE,
    Day,
    pick_in_groups,
    uniform_times,
)
from simulator.feed import PostPool
from simulator.fraud_setup import FraudState
from simulator.fraud_spam import active_from, alive_crew, boost, group_crews
from simulator.identity import home_context
from simulator.market import Market, listing_frames, place_orders
from simulator.payments import Ledger, pm_ids
from simulator.population import SYBIL, Population
from simulator.social import (
    FOLLOW_EDGE,
    VERIFIED,
    Graph,
    follow_frames,
    trust_frames,
)
from simulator.tactics import Tactics


def vouch(
    pop: Population,
    ring: np.ndarray,
    *,
    graph: Graph,
    day: Day,
    rng: np.random.Generator,
    tactics: Tactics,
) -> list[pl.DataFrame]:
    """Most pairs of a ring connect both ways once it starts (within a day and a half, unless
    the ring is hiding)."""
    out: list[pl.DataFrame] = []
    i, j = np.triu_indices(ring.size, k=1)
    keep = rng.random(i.size) < tactics.ring_vouch_share
    a, b = ring[i[keep]], ring[j[keep]]
    back = rng.random(a.size) < 0.9
    src, dst = np.concatenate([a, b[back]]), np.concatenate([b, a[back]])
    ts = np.maximum(active_from(pop, src), active_from(pop, dst)) + uniform_times(
        rng, src.size, lo=10 * MINUTE, hi=tactics.ring_vouch_within
    )
    kind = np.where(rng.random(src.size) < 0.5, 0, VERIFIED).astype(np.int8)
    acc = graph.add_trust(src, dst, kind=kind, since=ts)
    src, dst, ts, kind = src[acc], dst[acc], ts[acc], kind[acc]
    out.append(
        trust_frames(
            pop,
            src=src,
            dst=dst,
            kind=kind,
            ts=ts,
            weight=rng.uniform(0.85, 1.0, src.size),
            ctx=home_context(pop, src),
        )
    )
    # A thin layer of links into the honest graph, rarely returned.
    members = ring[rng.random(ring.size) < 0.5]
    tgt = np.flatnonzero(
        (pop.community == pop.community[ring[0]]) & (pop.typology == 0) & (pop.reg_us < day.d0)
    )
    if tgt.size and members.size:
        dst = tgt[rng.integers(0, tgt.size, members.size)]
        ts = active_from(pop, members) + uniform_times(rng, members.size, lo=HOUR, hi=2 * DAY)
        kind = np.full(members.size, FOLLOW_EDGE, np.int8)
        acc = graph.add_trust(members, dst, kind=kind, since=ts)
        out.append(
            trust_frames(
                pop,
                src=members[acc],
                dst=dst[acc],
                kind=kind[acc],
                ts=ts[acc],
                weight=rng.uniform(0.1, 0.4, int(acc.sum())),
                ctx=home_context(pop, members[acc]),
            )
        )
        acc = graph.add_follow(members, dst, pop=pop)
        out.append(
            follow_frames(
                pop,
                src=members[acc],
                dst=dst[acc],
                ts=ts[acc] + MINUTE,
                source=np.zeros(int(acc.sum()), np.int64),
                ctx=home_context(pop, members[acc]),
            )
        )
    return out


def sybil_rings(
    pop: Population,
    st: FraudState,
    *,
    graph: Graph,
    pool: PostPool,
    mk: Market,
    ledger: Ledger,
    day: Day,
) -> list[pl.DataFrame]:
    rng = day.rng("sybil")
    tac = st.tactics
    out: list[pl.DataFrame] = []
    for ring in st.rings:
        if day.d0 <= pop.fraud_from[ring[0]] < day.d1:
            out += vouch(pop, ring, graph=graph, day=day, rng=rng, tactics=tac)
    alive = alive_crew(pop, SYBIL, day=day)
    if alive.size == 0:
        return out
    age = day.d0 - pop.fraud_from[alive]
    buyers = alive[~pop.is_seller[alive]]
    sellers = alive[pop.is_seller[alive] & (age >= DAY // 2) & (age < 8 * DAY)]
    if sellers.size and buyers.size:
        # Fake trades inside the ring build up five-star reputations...
        b_sorted, b_ptr, b_row = group_crews(pop, buyers)
        s = np.repeat(sellers, rng.poisson(tac.ring_fake_trades, sellers.size))
        row = b_row[pop.cluster[s]]
        s = s[row >= 0]
        b = b_sorted[
            np.maximum(
                pick_in_groups(
                    rng,
                    order=np.arange(b_sorted.size),
                    indptr=b_ptr,
                    groups=np.maximum(row[row >= 0], 0),
                ),
                0,
            )
        ]
        t = uniform_times(rng, s.size, lo=day.d0, hi=day.d1 - 8 * HOUR)
        base = len(mk.lid)
        out.append(listing_frames(pop, mk, seller=s, ts=t, ctx=home_context(pop, s), rng=rng))
        rows = base + np.arange(s.size)
        mk.sold[rows] = True
        out += place_orders(
            pop,
            mk,
            graph=graph,
            ledger=ledger,
            buyer=b,
            listing=rows,
            ts=t + uniform_times(rng, s.size, lo=HOUR, hi=6 * HOUR),
            ctx=home_context(pop, b),
            pm=pm_ids(pop.pm[b]),
            rng=rng,
        )
    spend = alive[pop.is_seller[alive] & (age >= 4 * DAY)]
    if spend.size:
        # ...which are then spent on under-priced listings that honest buyers pay for.
        s = np.repeat(spend, rng.poisson(tac.ring_scam_listings, spend.size))
        out.append(
            listing_frames(
                pop,
                mk,
                seller=s,
                ts=uniform_times(rng, s.size, lo=day.d0, hi=day.d1),
                ctx=home_context(pop, s),
                rng=rng,
                category=pop.seller_cat[s].astype(np.int64),
                price_factor=rng.uniform(*tac.ring_scam_price, s.size),
                scam=True,
            )
        )
    posts, like, share = tac.ring_boost
    out += boost(pop, pool, crew=alive, day=day, rng=rng, posts=posts, like=like, share=share)
    return out

"""The marketplace: listings near the seller's city, buyers choosing among them, order chains."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import polars as pl

from simulator import catalog as cat
from simulator.aftermath import order_chains
from simulator.base import DAY, MINUTE, Day, csr, exp_delay, pick_in_groups
from simulator.chains import FAKE, HONEST, SCAMMED, STOLEN
from simulator.identity import Sessions
from simulator.ids import random_uuids
from simulator.payments import Ledger, currency, pm_ids
from simulator.population import CARD, SYBIL, Population
from simulator.social import Graph
from simulator.wire import frame, nullify, obj

LISTING_DAYS = 30
CONDITIONS = np.array(["new", "used"])


@dataclass
class Market:
    """Unsold listings of the last month, plus the order ground truth."""

    lid: pl.Series = field(default_factory=lambda: pl.Series([], dtype=pl.String))
    seller: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    category: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    cents: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    ts: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    scam: np.ndarray = field(default_factory=lambda: np.zeros(0, bool))
    sold: np.ndarray = field(default_factory=lambda: np.zeros(0, bool))
    orders: list[pl.DataFrame] = field(default_factory=list)

    def expire(self, now: int) -> None:
        keep = ~self.sold & (self.ts >= now - LISTING_DAYS * DAY)
        self.lid = self.lid.filter(pl.Series(keep))
        for name in ("seller", "category", "cents", "ts", "scam", "sold"):
            setattr(self, name, getattr(self, name)[keep])

    def relative_price(self, pop: Population, rows: np.ndarray) -> np.ndarray:
        fair = (
            cat.CATEGORY_MEDIAN_USD[self.category[rows]]
            * cat.FX[pop.country[self.seller[rows]]]
            * 100
        )
        return self.cents[rows] / fair


def listing_frames(
    pop: Population,
    mk: Market,
    *,
    seller: np.ndarray,
    ts: np.ndarray,
    ctx: pl.Series,
    rng: np.random.Generator,
    category: np.ndarray | None = None,
    price_factor: np.ndarray | None = None,
    scam: bool = False,
) -> pl.DataFrame:
    n = seller.size
    if category is None:
        other = rng.choice(
            len(cat.CATEGORIES), size=n, p=cat.CATEGORY_SHARE / cat.CATEGORY_SHARE.sum()
        )
        category = np.where(rng.random(n) < 0.7, pop.seller_cat[seller], other)
    if price_factor is None:
        price_factor = rng.lognormal(0, 0.45, n)
    units = cat.CATEGORY_MEDIAN_USD[category] * cat.FX[pop.country[seller]] * price_factor
    cents = np.maximum(1, np.round(units)).astype(np.int64) * 100
    cents -= np.where(rng.random(n) < 0.3, 1, 0)  # the .99 habit
    lid = random_uuids(rng, n)
    latlon = pop.latlon[seller] + rng.normal(0, 0.02, (n, 2))
    ships = nullify(pl.Series(cat.COUNTRY[pop.country[seller]]), rng.random(n) < 0.15)
    pay = obj(
        n,
        [
            ("category", "s", pl.Series(np.asarray(cat.CATEGORIES)[category])),
            ("price", "m", cents),
            ("currency", "s", currency(pop, seller)),
            (
                "item_condition",
                "s",
                pl.Series(CONDITIONS[(rng.random(n) < (0.3 if scam else 0.6)).astype(int)]),
            ),
            ("lat", "f4", np.clip(latlon[:, 0], -89.9, 89.9)),
            ("lon", "f4", np.clip(latlon[:, 1], -179.9, 179.9)),
            ("ships_from", "s", ships),
        ],
    )
    mk.lid = pl.concat([mk.lid, lid])
    mk.seller = np.concatenate([mk.seller, seller])
    mk.category = np.concatenate([mk.category, category])
    mk.cents = np.concatenate([mk.cents, cents])
    mk.ts = np.concatenate([mk.ts, ts])
    mk.scam = np.concatenate([mk.scam, np.full(n, scam)])
    mk.sold = np.concatenate([mk.sold, np.zeros(n, bool)])
    return frame(
        "LISTING_CREATED", ts, actor=pop.uid.gather(seller), subject=lid, payload=pay, ctx=ctx
    )


def choose_listings(
    pop: Population,
    mk: Market,
    *,
    buyer: np.ndarray,
    ts: np.ndarray,
    rng: np.random.Generator,
    local: float = 0.8,
    tries: int = 2,
) -> np.ndarray:
    """Each buyer compares a few listings (mostly from their own country) and takes the cheapest
    relative to its category: that is why under-priced scam listings sell so well."""
    live = np.flatnonzero(~mk.sold)
    if live.size == 0 or buyer.size == 0:
        return np.full(buyer.size, -1, dtype=np.int64)
    order, ptr = csr(pop.country[mk.seller[live]].astype(np.int64), cat.N_COUNTRIES)
    best = np.full(buyer.size, -1, dtype=np.int64)
    best_rel = np.full(buyer.size, np.inf)
    for _ in range(tries):
        j = pick_in_groups(rng, order=order, indptr=ptr, groups=pop.country[buyer].astype(np.int64))
        far = (rng.random(buyer.size) > local) | (j < 0)
        cand = np.where(far, live[rng.integers(0, live.size, buyer.size)], live[np.maximum(j, 0)])
        ok = (mk.ts[cand] < ts) & (mk.seller[cand] != buyer) & (pop.banned_us[mk.seller[cand]] > ts)
        rel = np.where(ok, mk.relative_price(pop, cand), np.inf)
        # Most buyers take the better deal; some go by photos, reviews or distance instead.
        better = (rel < best_rel) & ((rng.random(buyer.size) < 0.6) | ~np.isfinite(best_rel))
        best = np.where(better, cand, best)
        best_rel = np.where(better, rel, best_rel)
    # A listing sells once: later buyers of the same item today lose it.
    first = np.zeros(buyer.size, bool)
    first[
        np.unique(np.where(best >= 0, best, -np.arange(1, buyer.size + 1)), return_index=True)[1]
    ] = True
    best = np.where(first & (best >= 0) & ~mk.sold[np.maximum(best, 0)], best, -1)
    mk.sold[best[best >= 0]] = True
    return best


def place_orders(
    pop: Population,
    mk: Market,
    *,
    graph: Graph,
    ledger: Ledger,
    buyer: np.ndarray,
    listing: np.ndarray,
    ts: np.ndarray,
    ctx: pl.Series,
    pm: pl.Series,
    rng: np.random.Generator,
    own_card: bool = False,
) -> list[pl.DataFrame]:
    """``own_card``: the buyers pay with their own card (a card tester's cover shopping)."""
    seller = mk.seller[listing]
    cheap = mk.relative_price(pop, listing) < 1.0
    qty = np.where(cheap & (rng.random(buyer.size) < 0.08), 2, 1)
    same_ring = (pop.cluster[buyer] == pop.cluster[seller]) & (pop.typology[buyer] == SYBIL)
    mode = np.where(
        same_ring,
        FAKE,
        np.where(
            (pop.typology[buyer] == CARD) & (not own_card),
            STOLEN,
            np.where(mk.scam[listing], SCAMMED, HONEST),
        ),
    )
    frames, truth = order_chains(
        pop,
        graph,
        ledger=ledger,
        buyer=buyer,
        seller=seller,
        listing_id=mk.lid.gather(listing),
        cents=mk.cents[listing] * qty,
        cur=currency(pop, seller),
        qty=qty,
        ts=ts,
        ctx=ctx,
        pm=pm,
        mode=mode,
        rng=rng,
    )
    mk.orders.append(truth)
    return frames


def daily(
    pop: Population, graph: Graph, *, mk: Market, ledger: Ledger, sess: Sessions, day: Day
) -> list[pl.DataFrame]:
    rng = day.rng("market")
    out: list[pl.DataFrame] = []
    mk.expire(day.d0)
    honest = pop.honest_life()[sess.user]
    r = rng.random(len(sess))
    ls = np.flatnonzero(honest & pop.is_seller[sess.user] & (r < 0.2))
    out.append(
        listing_frames(
            pop,
            mk,
            seller=sess.user[ls],
            ts=sess.ts[ls] + exp_delay(rng, ls.size, mean=6 * MINUTE),
            ctx=sess.ctx.gather(ls),
            rng=rng,
        )
    )
    ob = np.flatnonzero(honest & (r >= 0.2) & (r < 0.222))
    ts = sess.ts[ob] + exp_delay(rng, ob.size, mean=8 * MINUTE)
    best = choose_listings(pop, mk, buyer=sess.user[ob], ts=ts, rng=rng)
    ok = best >= 0
    ob, ts, best = ob[ok], ts[ok], best[ok]
    u = sess.user[ob]
    out += place_orders(
        pop,
        mk,
        graph=graph,
        ledger=ledger,
        buyer=u,
        listing=best,
        ts=ts,
        ctx=sess.ctx.gather(ob),
        pm=pm_ids(pop.pm[u]),
        rng=rng,
        own_card=True,
    )
    return out

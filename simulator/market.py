"""The marketplace: listings near the seller's city, buyers choosing among them, order chains."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import polars as pl

from simulator import catalog as cat
from simulator import search
from simulator.aftermath import order_chains
from simulator.base import DAY, MINUTE, Day, exp_delay
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
    latlon: np.ndarray = field(default_factory=lambda: np.zeros((0, 2)))
    orders: list[pl.DataFrame] = field(default_factory=list)

    def expire(self, now: int) -> None:
        keep = ~self.sold & (self.ts >= now - LISTING_DAYS * DAY)
        self.lid = self.lid.filter(pl.Series(keep))
        for name in ("seller", "category", "cents", "ts", "scam", "sold", "latlon"):
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
    mk.latlon = np.concatenate([mk.latlon, latlon])
    return frame(
        "LISTING_CREATED", ts, actor=pop.uid.gather(seller), subject=lid, payload=pay, ctx=ctx
    )


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
    search_id: pl.Series | None = None,
) -> list[pl.DataFrame]:
    """``own_card``: the buyers pay with their own card (a card tester's cover shopping);
    ``search_id``: the search each order came from (``simulator.search``), if any."""
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
        search_id=search_id,
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
    # Honest buyers search before they buy (``simulator.search``); browsers search without
    # much intent. The search draws have a stream of their own.
    ob = np.flatnonzero(honest & (r >= 0.2) & (r < 0.222))
    browse = np.flatnonzero(honest & (r >= 0.222) & (r < 0.24))
    searchers = np.concatenate([ob, browse])
    intent = np.concatenate([np.ones(ob.size, bool), np.zeros(browse.size, bool)])
    ts = sess.ts[searchers] + exp_delay(rng, searchers.size, mean=8 * MINUTE)
    shown, best, sid = search.searches(
        pop,
        mk,
        buyer=sess.user[searchers],
        ts=ts,
        intent=intent,
        ctx=sess.ctx.gather(searchers),
        rng=day.rng("search"),
    )
    out.append(shown)
    ok = best >= 0
    ob, ts, best, sid = searchers[ok], ts[ok], best[ok], sid.filter(pl.Series(ok))
    u = sess.user[ob]
    out += place_orders(
        pop,
        mk,
        graph=graph,
        ledger=ledger,
        buyer=u,
        listing=best,
        ts=ts + 2 * MINUTE,
        ctx=sess.ctx.gather(ob),
        pm=pm_ids(pop.pm[u]),
        rng=rng,
        own_card=True,
        search_id=sid,
    )
    return out

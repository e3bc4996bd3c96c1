"""Listing search: buyers search before they buy, see a ranked page, and order from it.

A search looks for one category (mostly in the buyer's country); the listings it matches each
have a latent match to the query (ground truth, never emitted) of which the platform sees a
noisy, coarse ``text_match`` (quarters, as the core API's term counting gives). The platform
serves them by relevance, as the core API's fallback does: text match, then distance (half the
searches give the buyer's location), then newest; the first ``RESULTS`` are shown, one
LISTING_SEARCHED event each with its position. ``EXPLORE`` of the pages are shuffled, as the
core API's exploration share does (``shuffled``).

Which listing a buyer orders (if any) is biased to relevance, to the top of the page (position
bias), to a good price, and to sellers that look trustworthy: established accounts more than
new ones, and scam listings less than others (some buyers notice the stock photos and the vague
text, not all). Buyers with intent order from most searches; browsers seldom do.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import polars as pl

from simulator import catalog as cat
from simulator.base import DAY, SECOND
from simulator.ids import random_uuids
from simulator.population import Population
from simulator.wire import EMPTY, frame, nullify, obj

if TYPE_CHECKING:
    from simulator.market import Market

RESULTS = 10  # listings on a page
POOL = 40  # listings a query matches at most
LOCAL = 0.8  # share of searches within the buyer's country
BUY = (0.05, 0.75)  # chance to order from a page: browsing, with intent
# The simulated platform's VOUCH_SEARCH_EXPLORE_SHARE: pages whose best listings are shuffled
# (larger than the API's default, so a few simulated days hold enough unbiased searches).
EXPLORE = 0.2
EARTH_KM = 6371.0088


def _distance_km(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    p1, p2 = np.radians(a[:, 0]), np.radians(b[:, 0])
    dp, dl = p2 - p1, np.radians(b[:, 1] - a[:, 1])
    h = np.sin(dp / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(dl / 2) ** 2
    return 2 * EARTH_KM * np.arcsin(np.minimum(1.0, np.sqrt(h)))


def _appeal(pop: Population, mk: Market, rows: np.ndarray, *, t: int) -> np.ndarray:
    """How much a buyer likes a listing apart from relevance and position: price and seller."""
    rel = mk.relative_price(pop, rows)
    price = np.clip(1.0 / np.maximum(rel, 1e-3), 0.3, 3.0) ** 0.7
    age_days = np.maximum(0, t - pop.reg_us[mk.seller[rows]]) / DAY
    established = 0.35 + 0.65 * (1.0 - np.exp(-age_days / 45.0))
    return price * established * np.where(mk.scam[rows], 0.4, 1.0)


def _one(
    pop: Population,
    mk: Market,
    *,
    buyer: int,
    t: int,
    live: np.ndarray,
    rng: np.random.Generator,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray | None, int, bool] | None:
    """One search: shown rows, their text match and latent match, distances (None: no point
    given), category, and whether the page was shuffled (exploration); None: nothing found."""
    c = int(rng.choice(len(cat.CATEGORIES), p=cat.CATEGORY_SHARE / cat.CATEGORY_SHARE.sum()))
    pool = live[(mk.category[live] == c) & (mk.ts[live] < t)]
    pool = pool[(mk.seller[pool] != buyer) & (pop.banned_us[mk.seller[pool]] > t)]
    if rng.random() < LOCAL:
        local = pool[pop.country[mk.seller[pool]] == pop.country[buyer]]
        pool = local if local.size >= 3 else pool
    if pool.size == 0:
        return None
    pool = rng.choice(pool, size=min(POOL, pool.size), replace=False)
    match = rng.beta(2.0, 2.0, pool.size)
    seen = np.round(np.clip(match + rng.normal(0, 0.2, pool.size), 0, 1) * 4) / 4
    far = None
    if rng.random() < 0.5:
        far = np.round(
            _distance_km(np.repeat(pop.latlon[[buyer]], pool.size, 0), mk.latlon[pool]), 2
        )
    order = np.lexsort((-mk.ts[pool], far if far is not None else np.zeros(pool.size), -seen))
    top = order[:RESULTS]
    shuffled = rng.random() < EXPLORE
    if shuffled:
        top = rng.permutation(top)
    return pool[top], seen[top], match[top], None if far is None else far[top], c, shuffled


def searches(
    pop: Population,
    mk: Market,
    *,
    buyer: np.ndarray,
    ts: np.ndarray,
    intent: np.ndarray,
    ctx: pl.Series,
    rng: np.random.Generator,
) -> tuple[pl.DataFrame, np.ndarray, pl.Series]:
    """LISTING_SEARCHED rows of every search, the listing each buyer ordered (-1: none, marked
    sold) and the search ids (one per buyer)."""
    n = buyer.size
    sid = random_uuids(rng, n)
    best = np.full(n, -1, dtype=np.int64)
    live = np.flatnonzero(~mk.sold)
    parts: list[dict[str, np.ndarray]] = []
    for i in range(n):
        found = _one(pop, mk, buyer=int(buyer[i]), t=int(ts[i]), live=live, rng=rng)
        if found is None:
            continue
        rows, seen, match, far, c, shuffled = found
        rows_live = ~mk.sold[rows]
        pos = np.arange(rows.size)
        weight = (
            np.exp(2.5 * match) * _appeal(pop, mk, rows, t=int(ts[i])) / (1.0 + pos) ** 0.8
        ) * rows_live
        if weight.sum() > 0 and rng.random() < BUY[int(intent[i])]:
            k = int(rng.choice(rows.size, p=weight / weight.sum()))
            best[i] = rows[k]
            mk.sold[rows[k]] = True
        parts.append(
            {
                "i": np.full(rows.size, i),
                "row": rows,
                "pos": pos,
                "seen": seen,
                "far": far if far is not None else np.full(rows.size, np.nan),
                "cat": np.full(rows.size, c),
                "qlen": np.full(rows.size, rng.integers(3, 40)),
                "filtered": np.full(rows.size, rng.random() < 0.6),
                "shuffled": np.full(rows.size, shuffled),
            }
        )
    if not parts:
        return EMPTY, best, sid
    p = {k: np.concatenate([d[k] for d in parts]) for k in parts[0]}
    m = p["row"].size
    has_point = ~np.isnan(p["far"])
    category = pl.Series(np.asarray(cat.CATEGORIES)[p["cat"]])
    head = [
        ("search_id", "s", sid.gather(p["i"])),
        ("search_position", "i", p["pos"]),
        ("text_match", "f2", p["seen"]),
    ]
    tail = [
        ("search_ranking", "s", pl.Series(np.where(p["shuffled"], "shuffled", "relevance"))),
        ("query_length", "i", p["qlen"]),
        ("search_category", "s", nullify(category, ~p["filtered"])),
    ]
    # A search without a point leaves distance_km out (a float field cannot be nulled in obj).
    near = obj(m, [*head, ("distance_km", "f2", np.nan_to_num(p["far"])), *tail])
    payload = pl.select(
        pl.when(pl.lit(pl.Series(has_point)))
        .then(pl.lit(near))
        .otherwise(pl.lit(obj(m, [*head, *tail])))
    ).to_series()
    shown = frame(
        "LISTING_SEARCHED",
        ts[p["i"]] + p["pos"] * SECOND // 10,
        actor=pop.uid.gather(buyer[p["i"]]),
        subject=mk.lid.gather(p["row"]),
        payload=payload,
        ctx=ctx.gather(p["i"]),
    )
    return shown, best, sid

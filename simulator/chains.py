"""Whole order chains, drawn at order time with their future timestamps.

An order's fate is decided up front (fulfilled, disputed, scammed, charged back) and every step is
emitted with its own time; the engine holds future rows back until their day and cuts whatever
would happen after the run ends, so late labels are simply never seen.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import polars as pl

from core_api.events import SYSTEM_ACTOR_ID
from simulator.base import DAY, HOUR, MINUTE, SECOND, uniform_times
from simulator.identity import home_context
from simulator.ids import random_uuids
from simulator.payments import payment_frames
from simulator.population import Population
from simulator.wire import frame, obj

HONEST, SCAMMED, STOLEN, FAKE = 0, 1, 2, 3
MODES = np.array(["honest", "scam_listing", "stolen_card", "fake_trade"])
DECLINES = [0.4, 0.3, 0.12, 0.1, 0.03, 0.05]  # failure code shares of ordinary declines


def pick(value: Any, idx: np.ndarray) -> Any:
    """Rows ``idx`` of a per-order column; scalars apply to every row."""
    if isinstance(value, pl.Series):
        return value.gather(idx)
    if isinstance(value, np.ndarray):
        return value[idx]
    return value


@dataclass
class Chain:
    """The orders of one batch, their participants and the rows emitted so far."""

    pop: Population
    buyer: np.ndarray
    seller: np.ndarray
    listing_id: pl.Series
    cents: np.ndarray
    cur: pl.Series
    mode: np.ndarray
    ctx: pl.Series
    pm: pl.Series
    rng: np.random.Generator
    search_id: pl.Series | None = None  # the search each order came from (None: not searched)
    out: list[pl.DataFrame] = field(default_factory=list)

    def __post_init__(self) -> None:
        n = self.buyer.size
        self.n = n
        self.oid = random_uuids(self.rng, n)
        self.pay_id = random_uuids(self.rng, n)
        self.b_uid = self.pop.uid.gather(self.buyer)
        self.s_uid = self.pop.uid.gather(self.seller)
        self.b_home = home_context(self.pop, self.buyer)
        self.s_home = home_context(self.pop, self.seller)
        self.money = [("amount", "m", self.cents), ("currency", "s", self.cur)]
        self.money_to = [*self.money, ("seller_id", "s", self.s_uid)]

    def emit(
        self,
        et: str,
        idx: np.ndarray,
        *,
        ts: np.ndarray,
        fields: list[tuple[str, str, Any]],
        actor: Any = None,
        ctx: Any = None,
        target: Any = None,
        subject: Any = None,
    ) -> None:
        """Rows ``idx`` of one event type; the buyer acts on the order unless told otherwise."""
        pay = obj(idx.size, [(name, kind, pick(v, idx)) for name, kind, v in fields])
        actor = self.b_uid if actor is None else actor
        subject = self.oid if subject is None else subject
        self.out.append(
            frame(
                et,
                ts,
                actor=pick(actor, idx),
                subject=pick(subject, idx),
                payload=pay,
                ctx=None if ctx is None else pick(ctx, idx),
                target=None if target is None else pick(target, idx),
            )
        )

    def status(
        self, idx: np.ndarray, ts: np.ndarray, *, status: str, actor: Any = None, ctx: Any = None
    ) -> None:
        fields = [("order_status", "s", status), ("seller_id", "s", self.s_uid)]
        self.emit("ORDER_STATUS_CHANGED", idx, ts=ts, fields=fields, actor=actor, ctx=ctx)

    def payments(self, idx: np.ndarray, ts: np.ndarray, *, ok: bool, codes: Any = None) -> None:
        self.out.append(
            payment_frames(
                self.pop,
                ok=ok,
                payer=self.buyer[idx],
                ts=ts,
                cents=self.cents[idx],
                cur=self.cur.gather(idx),
                pm=self.pm.gather(idx),
                ctx=self.ctx.gather(idx),
                rng=self.rng,
                order_id=self.oid.gather(idx),
                codes=codes,
                pay_ids=self.pay_id.gather(idx) if ok else None,
            )
        )


def checkout(c: Chain, ts: np.ndarray, *, qty: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Order, declines, payment, escrow; returns (payment time, gave up after two declines)."""
    rng, n = c.rng, c.n
    every = np.arange(n)
    c.emit(
        "ORDER_PLACED",
        every,
        ts=ts,
        ctx=c.ctx,
        fields=[
            ("listing_id", "s", c.listing_id),
            *c.money,
            ("quantity", "i", qty),
            ("seller_id", "s", c.s_uid),
            *([] if c.search_id is None else [("search_id", "s", c.search_id)]),
        ],
    )
    # Declines before the payment goes through; two in a row make some buyers give up.
    fails = np.where(c.mode == STOLEN, 0, rng.choice(3, size=n, p=[0.9, 0.07, 0.03]))
    t = ts + 20 * SECOND
    for k in (1, 2):
        f = np.flatnonzero(fails >= k)
        c.payments(f, t[f], ok=False, codes=rng.choice(6, size=f.size, p=DECLINES))
        t = t + np.where(fails >= k, uniform_times(rng, n, lo=30 * SECOND, hi=4 * MINUTE), 0)
    quit_ = (fails == 2) & (rng.random(n) < 0.4)
    q = np.flatnonzero(quit_)
    c.status(q, t[q] + MINUTE, status="cancelled", ctx=c.ctx)
    go = np.flatnonzero(~quit_)
    paid = t + 5 * SECOND
    c.payments(go, paid[go], ok=True)
    c.emit("ESCROW_HELD", go, ts=paid[go] + 2 * SECOND, fields=c.money_to)
    c.status(go, paid[go] + 3 * SECOND, status="paid")
    return paid, quit_


def fulfil(c: Chain, paid: np.ndarray, *, ships: np.ndarray) -> np.ndarray:
    """Shipping and delivery (fake trades arrive suspiciously fast); returns delivery times."""
    rng, n = c.rng, c.n
    fake = c.mode == FAKE
    slow = uniform_times(rng, n, lo=7 * HOUR, hi=3 * DAY)
    ship_t = paid + np.where(fake, uniform_times(rng, n, lo=HOUR, hi=12 * HOUR), slow)
    transit = uniform_times(rng, n, lo=DAY, hi=5 * DAY)
    deliv_t = ship_t + np.where(fake, uniform_times(rng, n, lo=12 * HOUR, hi=36 * HOUR), transit)
    s = np.flatnonzero(ships)
    c.status(s, ship_t[s], status="shipped", actor=c.s_uid, ctx=c.s_home)
    c.status(s, deliv_t[s], status="delivered", actor=SYSTEM_ACTOR_ID)
    return deliv_t

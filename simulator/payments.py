"""Wallet money: top-ups, transfers between friends and payouts to bank accounts.

A ledger of dated credits keeps amounts consistent: escrow released on day 9 can be paid out on
day 9 or later, never before, and a payout never exceeds what the wallet holds.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import polars as pl

from simulator import catalog as cat
from simulator.base import DAY, MINUTE, SECOND, Day, exp_delay, uniform_times
from simulator.identity import Sessions, home_context
from simulator.ids import random_uuids, tokens
from simulator.population import Population
from simulator.social import Graph, valid_target
from simulator.wire import frame, obj

PM_SALT, BANK_SALT = 0x9A11, 0xBA4C
FAILURE_CODES = np.array(
    [
        "insufficient_funds",
        "card_declined",
        "incorrect_cvc",
        "expired_card",
        "fraud_suspected",
        "do_not_honor",
    ]
)


def pm_ids(keys: np.ndarray) -> pl.Series:
    return tokens("pm_", keys, salt=PM_SALT, nbytes=6)


def bank_ids(keys: np.ndarray) -> pl.Series:
    return tokens("ba_", keys, salt=BANK_SALT, nbytes=6)


def currency(pop: Population, users: np.ndarray) -> pl.Series:
    return pl.Series(cat.CURRENCY[pop.country[users]])


def whole_amounts(
    rng: np.random.Generator, *, usd_median: float, sigma: float, fx: np.ndarray
) -> np.ndarray:
    """Round-ish local amounts in cents (people type 25 or 40, not 23.17)."""
    units = np.maximum(1, np.round(usd_median * fx * rng.lognormal(0, sigma, fx.size)))
    return units.astype(np.int64) * 100


def convert(pop: Population, cents: np.ndarray, *, src: np.ndarray, dst: np.ndarray) -> np.ndarray:
    """Cents in the sender's currency to cents in the receiver's."""
    rate = cat.FX[pop.country[dst]] / cat.FX[pop.country[src]]
    return np.maximum(1, (cents * rate).astype(np.int64))


@dataclass
class Ledger:
    """Credits that become spendable at a given time (escrow releases, incoming transfers)."""

    ts: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    user: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    cents: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))

    def credit(self, *, ts: np.ndarray, user: np.ndarray, cents: np.ndarray) -> None:
        self.ts = np.concatenate([self.ts, ts])
        self.user = np.concatenate([self.user, user])
        self.cents = np.concatenate([self.cents, cents])

    def settle(self, pop: Population, until: int) -> None:
        due = self.ts < until
        np.add.at(pop.balance, self.user[due], self.cents[due])
        self.ts, self.user, self.cents = self.ts[~due], self.user[~due], self.cents[~due]


def payment_frames(
    pop: Population,
    *,
    ok: bool,
    payer: np.ndarray,
    ts: np.ndarray,
    cents: np.ndarray,
    cur: pl.Series,
    pm: pl.Series,
    ctx: pl.Series,
    rng: np.random.Generator,
    order_id: pl.Series | None = None,
    codes: np.ndarray | None = None,
    pay_ids: pl.Series | None = None,
) -> pl.DataFrame:
    """PAYMENT_SUCCESS / PAYMENT_FAILED for wallet top-ups or orders (``order_id`` given)."""
    n = payer.size
    fields = [
        ("amount", "m", cents),
        ("currency", "s", cur),
        ("payment_method_id", "s", pm),
        ("purpose", "s", "top_up" if order_id is None else "order"),
    ]
    if not ok:
        fields.append(("failure_code", "s", pl.Series(FAILURE_CODES[codes])))
    if order_id is not None:
        fields.append(("order_id", "s", order_id))
    pid = pay_ids if pay_ids is not None else random_uuids(rng, n)
    return frame(
        "PAYMENT_SUCCESS" if ok else "PAYMENT_FAILED",
        ts,
        actor=pop.uid.gather(payer),
        subject=pid,
        payload=obj(n, fields),
        ctx=ctx,
    )


def transfer_frames(
    pop: Population,
    ledger: Ledger | None,
    *,
    sender: np.ndarray,
    receiver: np.ndarray,
    ts: np.ndarray,
    cents: np.ndarray,
    ctx: pl.Series,
    rng: np.random.Generator,
) -> pl.DataFrame:
    """``ledger=None`` when the receiver moves the money on by itself (mules cash out at once)."""
    pop.balance[sender] -= np.minimum(cents, pop.balance[sender])
    if ledger is not None:
        ledger.credit(ts=ts, user=receiver, cents=convert(pop, cents, src=sender, dst=receiver))
    pay = obj(
        sender.size,
        [
            ("transfer_id", "s", random_uuids(rng, sender.size)),
            ("amount", "m", cents),
            ("currency", "s", currency(pop, sender)),
        ],
    )
    return frame(
        "TRANSFER_SENT",
        ts,
        actor=pop.uid.gather(sender),
        subject=pop.uid.gather(receiver),
        payload=pay,
        ctx=ctx,
    )


def payout_frames(
    pop: Population,
    *,
    user: np.ndarray,
    ts: np.ndarray,
    cents: np.ndarray,
    dest: np.ndarray,
    ctx: pl.Series,
    rng: np.random.Generator,
    complete_after: np.ndarray,
) -> list[pl.DataFrame]:
    pid = random_uuids(rng, user.size)
    pay = obj(
        user.size,
        [
            ("amount", "m", cents),
            ("currency", "s", currency(pop, user)),
            ("destination_id", "s", bank_ids(dest)),
        ],
    )
    uid = pop.uid.gather(user)
    return [
        frame("PAYOUT_REQUESTED", ts, actor=uid, subject=pid, payload=pay, ctx=ctx),
        frame("PAYOUT_COMPLETED", ts + complete_after, actor=uid, subject=pid, payload=pay),
    ]


def daily(
    pop: Population, graph: Graph, *, ledger: Ledger, sess: Sessions, day: Day
) -> list[pl.DataFrame]:
    rng = day.rng("payments")
    out: list[pl.DataFrame] = []
    ledger.settle(pop, day.d0)
    honest = pop.honest_life()[sess.user]
    r = rng.random(len(sess))
    fx = cat.FX[pop.country[sess.user]]
    # --- transfers to trusted people, topping up first when the wallet is short
    tr = np.flatnonzero(honest & (r < 0.012))
    u = sess.user[tr]
    peer = graph.trusted(rng, u)
    ts = sess.ts[tr] + exp_delay(rng, tr.size, mean=4 * MINUTE)
    ok = valid_target(pop, peer, ts=ts, actor=u)
    tr, u, peer, ts = tr[ok], u[ok], peer[ok], ts[ok]
    cents = whole_amounts(rng, usd_median=25, sigma=0.8, fx=fx[tr])
    short = cents > pop.balance[u]
    # --- plain top-ups plus the ones that fund a transfer
    tu = np.flatnonzero(honest & (r >= 0.012) & (r < 0.02))
    t_user = np.concatenate([sess.user[tu], u[short]])
    t_ts = np.concatenate(
        [
            sess.ts[tu] + exp_delay(rng, tu.size, mean=2 * MINUTE),
            ts[short] - uniform_times(rng, int(short.sum()), lo=MINUTE, hi=5 * MINUTE),
        ]
    )
    t_ctx = pl.concat([sess.ctx.gather(tu), sess.ctx.gather(tr[short])])
    t_cents = np.concatenate(
        [
            whole_amounts(rng, usd_median=50, sigma=0.7, fx=fx[tu]),
            cents[short]
            - pop.balance[u[short]]
            + 100 * np.ceil(5 * fx[tr[short]]).astype(np.int64),
        ]
    )
    t_cents = np.maximum(t_cents, 100)
    fail = rng.random(t_user.size) < 0.06
    f = np.flatnonzero(fail)
    out.append(
        payment_frames(
            pop,
            ok=False,
            payer=t_user[f],
            ts=t_ts[f] - 40 * SECOND,
            cents=t_cents[f],
            cur=currency(pop, t_user[f]),
            pm=pm_ids(pop.pm[t_user[f]]),
            ctx=t_ctx.gather(f),
            rng=rng,
            codes=rng.choice([0, 1], size=f.size),
        )
    )
    out.append(
        payment_frames(
            pop,
            ok=True,
            payer=t_user,
            ts=t_ts,
            cents=t_cents,
            cur=currency(pop, t_user),
            pm=pm_ids(pop.pm[t_user]),
            ctx=t_ctx,
            rng=rng,
        )
    )
    np.add.at(pop.balance, t_user, t_cents)
    out.append(
        transfer_frames(
            pop,
            ledger,
            sender=u,
            receiver=peer,
            ts=ts,
            cents=cents,
            ctx=sess.ctx.gather(tr),
            rng=rng,
        )
    )
    # --- cashing out: sellers sweep their wallets more eagerly than others
    floor = (20 * 100 * cat.FX[pop.country]).astype(np.int64)
    p = np.where(pop.is_seller, 0.4, 0.15)
    who = np.flatnonzero(
        (pop.balance > floor)
        & pop.honest_life()
        & (pop.banned_us > day.d1)
        & (pop.reg_us < day.d0)
        & (rng.random(pop.n) < p)
    )
    amt = pop.balance[who].copy()
    pop.balance[who] = 0
    out += payout_frames(
        pop,
        user=who,
        ts=uniform_times(rng, who.size, lo=day.d0, hi=day.d1),
        cents=amt,
        dest=pop.bank[who],
        ctx=home_context(pop, who),
        rng=rng,
        complete_after=uniform_times(rng, who.size, lo=DAY, hi=3 * DAY),
    )
    return out

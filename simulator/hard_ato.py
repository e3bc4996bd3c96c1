"""Quiet account takeover (hard mode): get in, wait, then bleed the wallet in small amounts.

The break-in is the normal one (fewer failed tries, credentials mostly left alone, see
``Tactics``). The attacker then waits a day to a few days, and moves money out in two to four
chunks days apart, logging in again before each. Owners notice less often and later; chunks
after the account is locked never happen and that money stays with the owner.
"""

from __future__ import annotations

import numpy as np
import polars as pl

from simulator import catalog as cat
from simulator.base import DAY, HOUR, MINUTE, Day, uniform_times
from simulator.fraud_ato import break_in, move_out, recover
from simulator.fraud_setup import FraudState
from simulator.ids import random_uuids
from simulator.payments import currency, payment_frames, pm_ids, whole_amounts
from simulator.population import Population
from simulator.wire import frame, obj

WAIT = (DAY, 5 * DAY)  # from getting in to the first money out
CHUNKS = (2, 5)  # [lo, hi)
GAP = (12 * HOUR, 3 * DAY)
CARD_USD = 150.0  # median extra charged to the saved card
NOTICE = 0.35  # owners who notice and report
NOTICE_AFTER = (DAY, 8 * DAY)  # after the first money out


def takeovers(pop: Population, st: FraudState, *, day: Day) -> list[pl.DataFrame]:
    out, got = break_in(pop, st, day=day, rng=day.rng("takeover"))
    v = got.victims
    n = v.size
    if n == 0:
        return out
    rng = day.rng("hard_takeover")
    first = got.at + uniform_times(rng, n, lo=WAIT[0], hi=WAIT[1])
    k = rng.integers(*CHUNKS, n)
    row = np.repeat(np.arange(n), k)
    gaps = uniform_times(rng, row.size, lo=GAP[0], hi=GAP[1])
    starts = np.cumsum(k) - k
    since_first = np.cumsum(gaps) - np.repeat(np.cumsum(gaps)[starts], k)
    t_chunk = first[row] + since_first
    extra = whole_amounts(rng, usd_median=CARD_USD, sigma=0.5, fx=cat.FX[pop.country[v]])
    budget = pop.balance[v] + extra
    weight = rng.uniform(0.5, 1.5, row.size)
    share = weight / np.bincount(row, weights=weight, minlength=n)[row]
    cents = (budget[row] * share).astype(np.int64) // 100 * 100
    noticed = np.flatnonzero(rng.random(n) < NOTICE)
    t_lock = np.full(n, np.iinfo(np.int64).max)
    t_lock[noticed] = first[noticed] + uniform_times(
        rng, noticed.size, lo=NOTICE_AFTER[0], hi=NOTICE_AFTER[1]
    )
    go = np.flatnonzero((t_chunk < t_lock[row]) & (cents > 0))
    moved = np.bincount(row[go], weights=cents[go], minlength=n).astype(np.int64)
    pop.balance[v] = budget - moved  # what the attacker never got to stays the owner's
    out.append(
        payment_frames(
            pop,
            ok=True,
            payer=v,
            ts=first - 3 * MINUTE,
            cents=extra,
            cur=currency(pop, v),
            pm=pm_ids(pop.pm[v]),
            ctx=got.ctx,
            rng=rng,
        )
    )
    ctx = got.ctx.gather(row[go])
    back_in = t_chunk[go] - uniform_times(rng, go.size, lo=2 * MINUTE, hi=20 * MINUTE)
    out.append(_logins(pop, v[row[go]], ts=back_in, ctx=ctx, rng=rng))
    out += move_out(pop, st, victims=v[row[go]], ts=t_chunk[go], cents=cents[go], ctx=ctx, rng=rng)
    return out + recover(pop, v[noticed], t_lock=t_lock[noticed], rng=rng)


def _logins(
    pop: Population, users: np.ndarray, *, ts: np.ndarray, ctx: pl.Series, rng: np.random.Generator
) -> pl.DataFrame:
    uid = pop.uid.gather(users)
    pay = obj(
        users.size,
        [
            ("login_method", "s", "token_refresh"),  # the session it kept
            ("mfa_used", "b", False),
            ("session_id", "s", random_uuids(rng, users.size)),
        ],
    )
    return frame("USER_LOGGED_IN", ts, actor=uid, subject=uid, ctx=ctx, payload=pay)

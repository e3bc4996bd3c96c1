"""Money mules: deposits talked out of strangers (fan-in), then moved on to banks or other mules."""

from __future__ import annotations

import numpy as np
import polars as pl

from simulator import catalog as cat
from simulator.base import DAY, HOUR, MINUTE, Day, exp_delay, uniform_times
from simulator.fraud_setup import FraudState, live
from simulator.identity import home_context
from simulator.payments import (
    convert,
    currency,
    payment_frames,
    payout_frames,
    pm_ids,
    transfer_frames,
    whole_amounts,
)
from simulator.population import Population


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
    loss: str | None = None,
) -> list[pl.DataFrame]:
    """Mules move money on within minutes to hours (days when hiding): mostly to a bank,
    sometimes to a mule. ``loss`` names the loss kind when the money is first stolen here."""
    tac = st.tactics
    later = ts + exp_delay(rng, mule.size, mean=tac.mule_dwell_mean) + tac.mule_dwell_floor
    if st.pass_share is not None:
        # Hiding mules keep part of each deposit in the wallet and live on it like anyone.
        moved = (cents * st.pass_share[mule]).astype(np.int64)
        np.add.at(pop.balance, mule, cents - moved)
        cents = moved
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
    fwd_t = later[lay] + exp_delay(rng, lay.size, mean=HOUR)
    out += payout_frames(
        pop,
        user=nxt[lay],
        ts=fwd_t,
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
    if loss is not None:
        # Layered money is charged to the mule the deposit reached first (in the payer's money).
        st.losses.add(pop, loss, user=mule[lay], at=fwd_t, cents=fwd, payer=nxt[lay])
        st.losses.add(pop, loss, user=mule[po], at=later[po], cents=cents[po])
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


def mule_inflows(pop: Population, st: FraudState, *, day: Day) -> list[pl.DataFrame]:
    """Fan-in: scam victims persuaded to 'send a deposit' to accounts they never met."""
    rng = day.rng("mule_inflows")
    act = live(pop, st.mules, t=day.d1)
    mule = np.repeat(act, rng.poisson(st.tactics.mule_inflows, act.size))
    honest = np.flatnonzero((pop.typology == 0) & (pop.reg_us < day.d0) & (pop.banned_us > day.d1))
    if honest.size == 0 or mule.size == 0:
        return []
    victim = honest[rng.integers(0, honest.size, mule.size)]
    ts = np.maximum(
        uniform_times(rng, mule.size, lo=day.d0, hi=day.d1), pop.fraud_from[mule] + MINUTE
    )
    usd = st.tactics.mule_deposit_usd
    cents = whole_amounts(rng, usd_median=usd, sigma=0.6, fx=cat.FX[pop.country[victim]])
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
    deposits = convert(pop, cents, src=victim, dst=mule)
    return out + cash_out(pop, st, mule=mule, ts=ts, cents=deposits, rng=rng, loss="mule_cashout")

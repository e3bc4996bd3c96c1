"""Account takeover: credential stuffing, a foreign login, locked-out owner, a drained wallet."""

from __future__ import annotations

import numpy as np
import polars as pl

from core_api.events import SYSTEM_ACTOR_ID
from simulator import catalog as cat
from simulator.base import DAY, HOUR, MINUTE, SECOND, Day, uniform_times
from simulator.fraud_money import mule_for, send_to_mules
from simulator.fraud_setup import FraudState
from simulator.identity import FAILURES, device_context, device_ids, home_context
from simulator.ids import random_uuids
from simulator.payments import (
    currency,
    payment_frames,
    payout_frames,
    pm_ids,
    whole_amounts,
)
from simulator.population import Population
from simulator.wire import frame, obj


def takeovers(pop: Population, st: FraudState, *, day: Day) -> list[pl.DataFrame]:
    rng = day.rng("takeover")
    hit = np.flatnonzero(
        (pop.fraud_from[st.victims] >= day.d0) & (pop.fraud_from[st.victims] < day.d1)
    )
    v = st.victims[hit]
    n = v.size
    if n == 0:
        return []
    at = pop.fraud_from[v]
    uid = pop.uid.gather(v)
    dev = st.attacker_device[hit]
    actx = device_context(
        keys=dev,
        platform=np.zeros(n, np.int64),
        ip=st.attacker_ip[hit],
        country=st.attacker_country[hit],
    )
    out: list[pl.DataFrame] = []
    tries = rng.integers(2, 7, n)
    rep = np.repeat(np.arange(n), tries)
    out.append(
        frame(
            "LOGIN_FAILED",
            at[rep] - uniform_times(rng, rep.size, lo=MINUTE, hi=40 * MINUTE),
            actor=uid.gather(rep),
            subject=uid.gather(rep),
            ctx=actx.gather(rep),
            payload=obj(rep.size, [("failure_reason", "s", str(FAILURES[0]))]),
        )
    )
    mfa = pop.mfa[v]
    out.append(
        frame(
            "USER_LOGGED_IN",
            at,
            actor=uid,
            subject=uid,
            ctx=actx,
            payload=obj(
                n,
                [
                    ("login_method", "s", pl.Series(np.where(mfa, "magic_link", "password"))),
                    ("mfa_used", "b", False),
                    ("session_id", "s", random_uuids(rng, n)),
                ],
            ),
        )
    )
    out.append(
        frame(
            "DEVICE_ADDED",
            at + 2 * SECOND,
            actor=uid,
            subject=uid,
            ctx=actx,
            payload=obj(n, [("device_id", "s", device_ids(dev)), ("platform", "s", "web")]),
        )
    )
    for cred, lo, hi, mask in (
        ("email", MINUTE, 5 * MINUTE, np.ones(n, bool)),
        ("mfa_disabled", 2 * MINUTE, 6 * MINUTE, mfa),
        ("password", 6 * MINUTE, 10 * MINUTE, np.ones(n, bool)),
    ):
        m = np.flatnonzero(mask)
        out.append(
            frame(
                "CREDENTIAL_CHANGED",
                at[m] + uniform_times(rng, m.size, lo=lo, hi=hi),
                actor=uid.gather(m),
                subject=uid.gather(m),
                ctx=actx.gather(m),
                payload=obj(m.size, [("credential", "s", cred)]),
            )
        )
    # Drain: the wallet plus whatever the saved card allows, out within the next half hour.
    t_out = at + uniform_times(rng, n, lo=11 * MINUTE, hi=40 * MINUTE)
    extra = whole_amounts(rng, usd_median=500, sigma=0.5, fx=cat.FX[pop.country[v]])
    out.append(
        payment_frames(
            pop,
            ok=True,
            payer=v,
            ts=t_out - 3 * MINUTE,
            cents=extra,
            cur=currency(pop, v),
            pm=pm_ids(pop.pm[v]),
            ctx=actx,
            rng=rng,
        )
    )
    total = pop.balance[v] + extra
    pop.balance[v] = 0
    via = rng.random(n) < 0.6
    t_ = np.flatnonzero(via)
    out += send_to_mules(
        pop, st, sender=v[t_], ts=t_out[t_], cents=total[t_], ctx=actx.gather(t_), rng=rng
    )
    p_ = np.flatnonzero(~via)
    mule = mule_for(pop, st, ts=t_out[p_], rng=rng)
    out += payout_frames(
        pop,
        user=v[p_],
        ts=t_out[p_],
        cents=total[p_],
        dest=pop.bank[mule],
        ctx=actx.gather(p_),
        rng=rng,
        complete_after=uniform_times(rng, p_.size, lo=12 * HOUR, hi=2 * DAY),
    )
    # Some victims notice and call support days later; the account is locked, then recovered.
    rp = np.flatnonzero(rng.random(n) < 0.55)
    t_lock = at[rp] + uniform_times(rng, rp.size, lo=DAY, hi=6 * DAY)
    out.append(
        status_frames(
            pop,
            v[rp],
            ts=t_lock,
            status="restricted",
            previous="active",
            reason="reported_account_takeover",
            actor=SYSTEM_ACTOR_ID,
        )
    )
    t_back = t_lock + uniform_times(rng, rp.size, lo=12 * HOUR, hi=2 * DAY)
    out.append(
        frame(
            "CREDENTIAL_CHANGED",
            t_back,
            actor=uid.gather(rp),
            subject=uid.gather(rp),
            ctx=home_context(pop, v[rp]),
            payload=obj(rp.size, [("credential", "s", "password")]),
        )
    )
    out.append(
        status_frames(
            pop,
            v[rp],
            ts=t_back + 5 * MINUTE,
            status="active",
            previous="restricted",
            reason="account_recovered",
            actor=SYSTEM_ACTOR_ID,
        )
    )
    return out


def status_frames(
    pop: Population,
    users: np.ndarray,
    *,
    ts: np.ndarray,
    status: str,
    previous: str,
    reason: str,
    actor: str | pl.Series,
) -> pl.DataFrame:
    pay = obj(
        users.size,
        [
            ("account_status", "s", status),
            ("previous_status", "s", previous),
            ("reason_code", "s", reason),
        ],
    )
    uid = pop.uid.gather(users)
    return frame("ACCOUNT_STATUS_CHANGED", ts, actor=actor, subject=uid, payload=pay)

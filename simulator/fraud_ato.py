"""Account takeover: credential stuffing, a foreign login, locked-out owner, a drained wallet."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl

from core_api.events import SYSTEM_ACTOR_ID
from simulator import catalog as cat
from simulator.base import DAY, HOUR, MINUTE, SECOND, Day, uniform_times
from simulator.fraud_mules import mule_for, send_to_mules
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

QUIET_CHANGES = 0.35  # share of hiding attackers who still change the e-mail and password


@dataclass(frozen=True)
class Intrusion:
    """Today's takeovers: the victims, when the attacker got in, and the attacker's context."""

    victims: np.ndarray
    at: np.ndarray
    ctx: pl.Series


def takeovers(pop: Population, st: FraudState, *, day: Day) -> list[pl.DataFrame]:
    rng = day.rng("takeover")
    out, got = break_in(pop, st, day=day, rng=rng)
    if got.victims.size == 0:
        return out
    return out + drain(pop, st, got=got, rng=rng)


def break_in(
    pop: Population, st: FraudState, *, day: Day, rng: np.random.Generator
) -> tuple[list[pl.DataFrame], Intrusion]:
    """Credential stuffing, the login that works, a new device, the credentials changed."""
    hit = np.flatnonzero(
        (pop.fraud_from[st.victims] >= day.d0) & (pop.fraud_from[st.victims] < day.d1)
    )
    v = st.victims[hit]
    n = v.size
    at = pop.fraud_from[v]
    if n == 0:
        return [], Intrusion(victims=v, at=at, ctx=pl.Series([], dtype=pl.String))
    uid = pop.uid.gather(v)
    dev = st.attacker_device[hit]
    plat = st.attacker_plat[hit]
    actx = device_context(
        keys=dev,
        platform=plat,
        ip=st.attacker_ip[hit],
        country=st.attacker_country[hit],
    )
    out: list[pl.DataFrame] = []
    tries = rng.integers(*st.tactics.ato_tries, n)
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
            payload=obj(
                n,
                [
                    ("device_id", "s", device_ids(dev)),
                    ("platform", "s", pl.Series(cat.PLATFORMS[plat])),
                ],
            ),
        )
    )
    # A loud attacker locks the owner out at once; a quiet one mostly leaves credentials alone.
    changes = np.ones(n, bool)
    if st.tactics.hard:
        changes = day.rng("hard_takeover_credentials").random(n) < QUIET_CHANGES
    for cred, lo, hi, mask in (
        ("email", MINUTE, 5 * MINUTE, changes),
        ("mfa_disabled", 2 * MINUTE, 6 * MINUTE, mfa),
        ("password", 6 * MINUTE, 10 * MINUTE, changes),
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
    return out, Intrusion(victims=v, at=at, ctx=actx)


def drain(
    pop: Population, st: FraudState, *, got: Intrusion, rng: np.random.Generator
) -> list[pl.DataFrame]:
    """The wallet plus whatever the saved card allows, out within the next half hour; some
    owners notice days later and get their account back."""
    v, at, actx = got.victims, got.at, got.ctx
    n = v.size
    out: list[pl.DataFrame] = []
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
    out += move_out(pop, st, victims=v, ts=t_out, cents=total, ctx=actx, rng=rng)
    # Some victims notice and call support days later; the account is locked, then recovered.
    rp = np.flatnonzero(rng.random(n) < 0.55)
    t_lock = at[rp] + uniform_times(rng, rp.size, lo=DAY, hi=6 * DAY)
    return out + recover(pop, v[rp], t_lock=t_lock, rng=rng)


def move_out(
    pop: Population,
    st: FraudState,
    *,
    victims: np.ndarray,
    ts: np.ndarray,
    cents: np.ndarray,
    ctx: pl.Series,
    rng: np.random.Generator,
) -> list[pl.DataFrame]:
    """Stolen money leaves, to a mule's wallet or straight to a mule's bank: a loss either way."""
    st.losses.add(pop, "ato_payout", user=victims, at=ts, cents=cents)
    via = rng.random(victims.size) < 0.6
    t_ = np.flatnonzero(via)
    out = send_to_mules(
        pop, st, sender=victims[t_], ts=ts[t_], cents=cents[t_], ctx=ctx.gather(t_), rng=rng
    )
    p_ = np.flatnonzero(~via)
    mule = mule_for(pop, st, ts=ts[p_], rng=rng)
    return out + payout_frames(
        pop,
        user=victims[p_],
        ts=ts[p_],
        cents=cents[p_],
        dest=pop.bank[mule],
        ctx=ctx.gather(p_),
        rng=rng,
        complete_after=uniform_times(rng, p_.size, lo=12 * HOUR, hi=2 * DAY),
    )


def recover(
    pop: Population, victims: np.ndarray, *, t_lock: np.ndarray, rng: np.random.Generator
) -> list[pl.DataFrame]:
    """The owner reported it: the account is restricted, the password reset, access restored."""
    uid = pop.uid.gather(victims)
    out = [
        status_frames(
            pop,
            victims,
            ts=t_lock,
            status="restricted",
            previous="active",
            reason="reported_account_takeover",
            actor=SYSTEM_ACTOR_ID,
        )
    ]
    t_back = t_lock + uniform_times(rng, victims.size, lo=12 * HOUR, hi=2 * DAY)
    out.append(
        frame(
            "CREDENTIAL_CHANGED",
            t_back,
            actor=uid,
            subject=uid,
            ctx=home_context(pop, victims),
            payload=obj(victims.size, [("credential", "s", "password")]),
        )
    )
    out.append(
        status_frames(
            pop,
            victims,
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

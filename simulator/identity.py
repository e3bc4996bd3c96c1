"""Accounts and sessions: sign-ups, verifications, devices, logins and credential changes."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl

from simulator import catalog as cat
from simulator.base import DAY, HOUR, MINUTE, SECOND, Day, exp_delay, uniform_times
from simulator.ids import mix64, random_uuids, tokens
from simulator.population import MAX_DEVICES, Population, random_ips
from simulator.wire import context, frame, nullify, obj

DEVICE_SALT = 0xD1CE
LOGIN_METHODS = np.array(["password", "sso", "magic_link", "token_refresh"])
FAILURES = np.array(["bad_password", "unknown_user", "locked", "mfa_failed"])


def device_ids(keys: np.ndarray) -> pl.Series:
    return tokens("dev_", keys, salt=DEVICE_SALT)


def ua_variant(keys: np.ndarray) -> np.ndarray:
    return (mix64(np.asarray(keys), 0x0A) % np.uint64(cat.UA_PER_PLATFORM)).astype(np.int64)


def device_context(
    *, keys: np.ndarray, platform: np.ndarray, ip: np.ndarray, country: np.ndarray
) -> pl.Series:
    return context(
        device=device_ids(keys),
        platform=platform,
        ip=ip,
        country=country,
        ua_variant=ua_variant(keys),
    )


def home_context(pop: Population, users: np.ndarray) -> pl.Series:
    """The context of a user's usual device at home, for actions outside a simulated session."""
    return device_context(
        keys=pop.dev[users, 0],
        platform=pop.dev_plat[users, 0],
        ip=pop.home_ip[users],
        country=pop.country[users],
    )


@dataclass
class Sessions:
    """Today's sessions; every user action happens inside one and carries its context."""

    user: np.ndarray
    ts: np.ndarray
    device: np.ndarray
    plat: np.ndarray
    ip: np.ndarray
    country: np.ndarray
    ctx: pl.Series

    def __len__(self) -> int:
        return self.user.size


def signups(pop: Population, users: np.ndarray, *, rng: np.random.Generator) -> list[pl.DataFrame]:
    """Registration, first devices and the verifications that follow over minutes to days."""
    n = users.size
    reg = pop.reg_us[users]
    uid = pop.uid.gather(users)
    ctx = home_context(pop, users)
    ref = pop.referrer[users]
    ref_ids = nullify(pop.uid.gather(np.maximum(ref, 0)), ref < 0)
    domains = pl.Series(cat.EMAIL_DOMAINS[pop.email[users]])
    payload = obj(
        n,
        [
            ("email_domain", "s", domains),
            ("signup_channel", "s", pl.Series(cat.PLATFORMS[pop.channel[users]])),
            ("referrer_id", "s", ref_ids),
        ],
    )
    out = [frame("USER_REGISTERED", reg, actor=uid, subject=uid, payload=payload, ctx=ctx)]
    for slot in range(MAX_DEVICES):
        has = np.flatnonzero(pop.dev[users, slot] >= 0)
        u = users[has]
        delay = (
            (1 + rng.integers(0, 3, has.size)) * SECOND
            if slot == 0
            else uniform_times(rng, has.size, lo=HOUR, hi=12 * DAY)
        )
        keys, plat = pop.dev[u, slot], pop.dev_plat[u, slot]
        pop.dev_since[u, slot] = reg[has] + delay
        dctx = device_context(keys=keys, platform=plat, ip=pop.home_ip[u], country=pop.country[u])
        pay = obj(
            has.size,
            [
                ("device_id", "s", device_ids(keys)),
                ("platform", "s", pl.Series(cat.PLATFORMS[plat])),
            ],
        )
        out.append(
            frame(
                "DEVICE_ADDED",
                reg[has] + delay,
                actor=uid.gather(has),
                subject=uid.gather(has),
                payload=pay,
                ctx=dctx,
            )
        )
    seller = pop.is_seller[users]
    steps = [
        ("email", 0.93, lambda m: exp_delay(rng, m, mean=10 * MINUTE)),
        ("phone", 0.55, lambda m: exp_delay(rng, m, mean=6 * HOUR)),
        ("id_document", None, lambda m: uniform_times(rng, m, lo=DAY // 2, hi=6 * DAY)),
        ("bank_account", None, lambda m: uniform_times(rng, m, lo=DAY, hi=10 * DAY)),
    ]
    p_extra = {
        "id_document": np.where(seller, 0.5, 0.06),
        "bank_account": np.where(seller, 0.6, 0.03),
    }
    for kind, share, delay_fn in steps:
        p = np.full(n, share) if share is not None else p_extra[kind]
        hit = np.flatnonzero(rng.random(n) < p)
        pay = obj(hit.size, [("verification", "s", kind)])
        out.append(
            frame(
                "VERIFICATION_COMPLETED",
                reg[hit] + delay_fn(hit.size),
                actor=uid.gather(hit),
                subject=uid.gather(hit),
                payload=pay,
                ctx=ctx.gather(hit),
            )
        )
    return out


def day_times(rng: np.random.Generator, day: Day, *, country: np.ndarray) -> np.ndarray:
    """Times following the local-time daily rhythm of each user's country."""
    hour = rng.choice(24, size=country.size, p=cat.DIURNAL)
    utc_hour = (hour - cat.UTC_OFFSET[country]) % 24
    return day.d0 + utc_hour * HOUR + (rng.random(country.size) * HOUR).astype(np.int64)


def sessions(pop: Population, day: Day) -> tuple[Sessions, list[pl.DataFrame]]:
    rng = day.rng("sessions")
    active = np.flatnonzero((pop.reg_us < day.d1) & (pop.banned_us > day.d0))
    weekend = 1.15 if day.weekday >= 5 else 1.0
    counts = rng.poisson(pop.activity[active] * weekend)
    user = np.repeat(active, counts)
    ts = day_times(rng, day, country=pop.country[user])
    reg = pop.reg_us[user]
    early = ts <= reg
    ts[early] = uniform_times(rng, int(early.sum()), lo=reg[early] + MINUTE, hi=day.d1)
    fresh = np.flatnonzero((pop.reg_us >= day.d0) & (pop.reg_us < day.d1))
    keep = ts < np.minimum(pop.banned_us[user], day.d1)
    user, ts = user[keep], ts[keep]
    is_signup = np.concatenate([np.zeros(user.size, bool), np.ones(fresh.size, bool)])
    user = np.concatenate([user, fresh])
    ts = np.concatenate([ts, pop.reg_us[fresh] + 5 * SECOND])
    n = user.size

    filled = (pop.dev[user] >= 0) & (pop.dev_since[user] <= ts[:, None])
    w = filled * np.array([0.6, 0.3, 0.1])
    slot = (w.cumsum(axis=1) < rng.random(n)[:, None] * w.sum(axis=1, keepdims=True)).sum(axis=1)
    slot = np.minimum(slot, MAX_DEVICES - 1)
    out: list[pl.DataFrame] = []
    newdev = np.flatnonzero((rng.random(n) < 0.003) & ~is_signup)
    if newdev.size:
        newdev = newdev[np.unique(user[newdev], return_index=True)[1]]
        u = user[newdev]
        empty = pop.dev[u] < 0
        slot[newdev] = np.where(
            empty.any(axis=1), empty.argmax(axis=1), rng.integers(1, MAX_DEVICES, newdev.size)
        )
        pop.dev[u, slot[newdev]] = pop.new_device_keys(newdev.size)
        pop.dev_plat[u, slot[newdev]] = rng.choice(3, size=newdev.size)
        pop.dev_since[u, slot[newdev]] = ts[newdev] - SECOND
    device, plat = pop.dev[user, slot], pop.dev_plat[user, slot]
    device = np.where(is_signup, pop.dev[user, 0], device)
    plat = np.where(is_signup, pop.dev_plat[user, 0], plat)

    where = rng.random(n)
    country = pop.country[user].astype(np.int64)
    ip = np.where(where < 0.75, pop.home_ip[user], pop.mobile_ip[user])
    travel = np.flatnonzero((where > 0.975) & ~is_signup)
    country[travel] = rng.choice(cat.N_COUNTRIES, size=travel.size, p=cat.COUNTRY_SHARE)
    ip[travel] = random_ips(rng, country[travel])
    ctx = device_context(keys=device, platform=plat, ip=ip, country=country)
    sess = Sessions(user=user, ts=ts, device=device, plat=plat, ip=ip, country=country, ctx=ctx)

    uid = pop.uid.gather(user)
    if newdev.size:
        pay = obj(
            newdev.size,
            [
                ("device_id", "s", device_ids(device[newdev])),
                ("platform", "s", pl.Series(cat.PLATFORMS[plat[newdev]])),
            ],
        )
        out.append(
            frame(
                "DEVICE_ADDED",
                ts[newdev] - SECOND,
                actor=uid.gather(newdev),
                subject=uid.gather(newdev),
                payload=pay,
                ctx=ctx.gather(newdev),
            )
        )
    login = np.flatnonzero(~is_signup)
    method = rng.choice(4, size=login.size, p=[0.4, 0.1, 0.1, 0.4])
    mfa = pop.mfa[user[login]] & (method != 3)
    pay = obj(
        login.size,
        [
            ("login_method", "s", pl.Series(LOGIN_METHODS[method])),
            ("mfa_used", "b", mfa),
            ("session_id", "s", random_uuids(rng, login.size)),
        ],
    )
    out.append(
        frame(
            "USER_LOGGED_IN",
            ts[login],
            actor=uid.gather(login),
            subject=uid.gather(login),
            payload=pay,
            ctx=ctx.gather(login),
        )
    )
    failed = login[rng.random(login.size) < 0.03]
    reason = rng.choice(4, size=failed.size, p=[0.8, 0.03, 0.05, 0.12])
    out.append(
        frame(
            "LOGIN_FAILED",
            ts[failed] - uniform_times(rng, failed.size, lo=5 * SECOND, hi=MINUTE),
            actor=uid.gather(failed),
            subject=uid.gather(failed),
            payload=obj(failed.size, [("failure_reason", "s", pl.Series(FAILURES[reason]))]),
            ctx=ctx.gather(failed),
        )
    )
    cred = login[rng.random(login.size) < 0.0015]
    kind = rng.choice(
        np.array(["password", "email", "phone", "mfa_enabled", "mfa_disabled"]),
        size=cred.size,
        p=[0.55, 0.15, 0.1, 0.15, 0.05],
    )
    out.append(
        frame(
            "CREDENTIAL_CHANGED",
            ts[cred] + exp_delay(rng, cred.size, mean=3 * MINUTE),
            actor=uid.gather(cred),
            subject=uid.gather(cred),
            payload=obj(cred.size, [("credential", "s", pl.Series(kind))]),
            ctx=ctx.gather(cred),
        )
    )
    return sess, out

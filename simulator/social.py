"""The social graph: trust connections, follows, negative signals and private messages."""

from __future__ import annotations

import numpy as np
import polars as pl

from simulator.base import (
    HOUR,
    MINUTE,
    SECOND,
    Day,
    exp_delay,
    pick_in_groups,
    pick_weighted,
)
from simulator.graph import Graph
from simulator.identity import Sessions, home_context
from simulator.ids import hashed_uuids, pair_key
from simulator.population import Population
from simulator.wire import frame, obj

EDGE_TYPES = np.array(["friend", "follow", "verified_connection"])
FRIEND, FOLLOW_EDGE, VERIFIED = 0, 1, 2
FOLLOW_SOURCES = np.array(["profile", "suggestion", "search", "post"])
REPORT_REASONS = np.array(["spam", "scam", "fake_account", "harassment", "other"])
CONVERSATION_SALT = 0xC0417


def community_peer(pop: Population, rng: np.random.Generator, *, users: np.ndarray) -> np.ndarray:
    return pick_in_groups(
        rng, order=pop.comm_order, indptr=pop.comm_ptr, groups=pop.community[users]
    )


def valid_target(
    pop: Population, target: np.ndarray, *, ts: np.ndarray, actor: np.ndarray
) -> np.ndarray:
    t = np.maximum(target, 0)
    return (target >= 0) & (target != actor) & (pop.reg_us[t] < ts) & (pop.banned_us[t] > ts)


def trust_frames(
    pop: Population,
    *,
    src: np.ndarray,
    dst: np.ndarray,
    kind: np.ndarray,
    ts: np.ndarray,
    weight: np.ndarray,
    ctx: pl.Series,
) -> pl.DataFrame:
    pay = obj(src.size, [("edge_type", "s", pl.Series(EDGE_TYPES[kind])), ("weight", "f2", weight)])
    return frame(
        "TRUST_CONNECTION_ADDED",
        ts,
        actor=pop.uid.gather(src),
        subject=pop.uid.gather(dst),
        payload=pay,
        ctx=ctx,
    )


def edge_weight(rng: np.random.Generator, kind: np.ndarray) -> np.ndarray:
    lo = np.array([0.4, 0.1, 0.8])[kind]
    hi = np.array([0.9, 0.4, 1.0])[kind]
    return lo + rng.random(kind.size) * (hi - lo)


def follow_frames(
    pop: Population,
    *,
    src: np.ndarray,
    dst: np.ndarray,
    ts: np.ndarray,
    source: np.ndarray,
    ctx: pl.Series,
) -> pl.DataFrame:
    pay = obj(src.size, [("follow_source", "s", pl.Series(FOLLOW_SOURCES[source]))])
    return frame(
        "USER_FOLLOWED",
        ts,
        actor=pop.uid.gather(src),
        subject=pop.uid.gather(dst),
        payload=pay,
        ctx=ctx,
    )


def negative_frames(
    pop: Population,
    *,
    et: str,
    src: np.ndarray,
    dst: np.ndarray,
    ts: np.ndarray,
    ctx: pl.Series,
    reason: np.ndarray | None = None,
) -> pl.DataFrame:
    fields = [] if reason is None else [("report_reason", "s", pl.Series(REPORT_REASONS[reason]))]
    return frame(
        et,
        ts,
        actor=pop.uid.gather(src),
        subject=pop.uid.gather(dst),
        payload=obj(src.size, fields),
        ctx=ctx,
        target=dst,
    )


def message_frames(
    pop: Population,
    *,
    sender: np.ndarray,
    receiver: np.ndarray,
    ts: np.ndarray,
    has_link: np.ndarray,
    ctx: pl.Series,
    rng: np.random.Generator,
) -> pl.DataFrame:
    conv = hashed_uuids(pair_key(sender, receiver), CONVERSATION_SALT)
    length = np.clip(rng.lognormal(3.7, 0.9, sender.size), 1, 4000).astype(np.int64)
    pay = obj(
        sender.size,
        [("conversation_id", "s", conv), ("text_length", "i", length), ("has_link", "b", has_link)],
    )
    return frame(
        "MESSAGE_SENT",
        ts,
        actor=pop.uid.gather(sender),
        subject=pop.uid.gather(receiver),
        payload=pay,
        ctx=ctx,
    )


def daily(pop: Population, graph: Graph, *, sess: Sessions, day: Day) -> list[pl.DataFrame]:
    rng = day.rng("social")
    out: list[pl.DataFrame] = []
    honest = pop.honest_life()[sess.user]
    n = len(sess)
    r = rng.random(n)
    # --- trust connections: mostly friends inside the community, some reciprocated later
    adds = np.flatnonzero(honest & (r < 0.03))
    u = sess.user[adds]
    how = rng.random(adds.size)
    target = community_peer(pop, rng, users=u)
    wide = how > 0.80
    target[wide] = rng.integers(0, pop.n, int(wide.sum()))
    kind = np.where(how > 0.88, 1, 0).astype(np.int8)
    popular = np.flatnonzero(kind == 1)
    target[popular] = pick_weighted(
        rng, (pop.followers + 1.0) * (pop.reg_us < day.d0), n=popular.size
    )
    ts = sess.ts[adds] + exp_delay(rng, adds.size, mean=3 * MINUTE)
    ok = valid_target(pop, target, ts=ts, actor=u)
    adds, u, target, kind, ts = adds[ok], u[ok], target[ok], kind[ok], ts[ok]
    acc = graph.add_trust(u, target, kind=kind, since=ts)
    adds, u, target, kind, ts = adds[acc], u[acc], target[acc], kind[acc], ts[acc]
    out.append(
        trust_frames(
            pop,
            src=u,
            dst=target,
            kind=kind,
            ts=ts,
            weight=edge_weight(rng, kind),
            ctx=sess.ctx.gather(adds),
        )
    )
    back = np.flatnonzero(
        (kind == FRIEND) & (rng.random(kind.size) < 0.65) & pop.honest_life()[target]
    )
    b_src, b_dst = target[back], u[back]
    b_ts = ts[back] + exp_delay(rng, back.size, mean=8 * HOUR)
    acc = graph.add_trust(b_src, b_dst, kind=np.zeros(back.size, np.int8), since=b_ts)
    b_src, b_dst, b_ts = b_src[acc], b_dst[acc], b_ts[acc]
    out.append(
        trust_frames(
            pop,
            src=b_src,
            dst=b_dst,
            kind=np.zeros(b_src.size, np.int64),
            ts=b_ts,
            weight=edge_weight(rng, np.zeros(b_src.size, np.int64)),
            ctx=home_context(pop, b_src),
        )
    )
    # --- a few connections are dropped again
    old = (graph.since < day.d0) & (rng.random(graph.since.size) < 0.001)
    old &= pop.honest_life()[graph.src] & (pop.banned_us[graph.src] > day.d1)
    rem = np.flatnonzero(old)
    r_ts = day.d0 + (rng.random(rem.size) * (day.d1 - day.d0)).astype(np.int64)
    out.append(
        frame(
            "TRUST_CONNECTION_REMOVED",
            r_ts,
            actor=pop.uid.gather(graph.src[rem]),
            subject=pop.uid.gather(graph.dst[rem]),
            payload=obj(rem.size, [("edge_type", "s", pl.Series(EDGE_TYPES[graph.kind[rem]]))]),
            ctx=home_context(pop, graph.src[rem]),
        )
    )
    graph.remove(old)
    # --- follows: suggestions inside the community, searches for already-popular accounts
    fol = np.flatnonzero(honest & (r >= 0.03) & (r < 0.065))
    u = sess.user[fol]
    src_kind = np.where(rng.random(fol.size) < 0.55, 1, np.where(rng.random(fol.size) < 0.5, 0, 2))
    target = community_peer(pop, rng, users=u)
    glob = src_kind != 1
    target[glob] = pick_weighted(
        rng, (pop.followers + 1.0) * (pop.reg_us < day.d0), n=int(glob.sum())
    )
    ts = sess.ts[fol] + exp_delay(rng, fol.size, mean=5 * MINUTE)
    ok = valid_target(pop, target, ts=ts, actor=u)
    fol, u, target, src_kind, ts = fol[ok], u[ok], target[ok], src_kind[ok], ts[ok]
    acc = graph.add_follow(u, target, pop=pop)
    out.append(
        follow_frames(
            pop,
            src=u[acc],
            dst=target[acc],
            ts=ts[acc],
            source=src_kind[acc],
            ctx=sess.ctx.gather(fol[acc]),
        )
    )
    # --- rare negative signals between honest people
    for et, lo, hi in (("USER_REPORTED", 0.065, 0.0665), ("USER_BLOCKED", 0.0665, 0.0675)):
        neg = np.flatnonzero(honest & (r >= lo) & (r < hi))
        u = sess.user[neg]
        target = community_peer(pop, rng, users=u)
        ts = sess.ts[neg] + exp_delay(rng, neg.size, mean=10 * MINUTE)
        ok = valid_target(pop, target, ts=ts, actor=u)
        reason = rng.choice(5, size=int(ok.sum()), p=[0.2, 0.05, 0.1, 0.4, 0.25])
        out.append(
            negative_frames(
                pop,
                et=et,
                src=u[ok],
                dst=target[ok],
                ts=ts[ok],
                ctx=sess.ctx.gather(neg[ok]),
                reason=reason if et == "USER_REPORTED" else None,
            )
        )
    # --- conversations with people one trusts, a few messages back and forth
    conv = np.flatnonzero(honest & (rng.random(n) < 0.12))
    u = sess.user[conv]
    peer = graph.trusted(rng, u)
    ok = valid_target(pop, peer, ts=sess.ts[conv], actor=u)
    conv, u, peer = conv[ok], u[ok], peer[ok]
    k = 1 + rng.poisson(2.5, conv.size)
    rep = np.repeat(np.arange(conv.size), k)
    step = np.arange(rep.size) - np.repeat(np.cumsum(k) - k, k)
    gaps = exp_delay(rng, rep.size, mean=2 * MINUTE) + 5 * SECOND
    first = np.cumsum(gaps) - np.repeat(
        np.cumsum(gaps)[np.cumsum(k) - k] - gaps[np.cumsum(k) - k], k
    )
    ts = sess.ts[conv][rep] + first
    mine = step % 2 == 0
    sender = np.where(mine, u[rep], peer[rep])
    receiver = np.where(mine, peer[rep], u[rep])
    ctx = pl.select(
        pl.when(pl.lit(pl.Series(mine)))
        .then(pl.lit(sess.ctx.gather(conv[rep])))
        .otherwise(pl.lit(home_context(pop, peer[rep])))
    ).to_series()
    out.append(
        message_frames(
            pop,
            sender=sender,
            receiver=receiver,
            ts=ts,
            has_link=rng.random(rep.size) < 0.03,
            ctx=ctx,
            rng=rng,
        )
    )
    return out

"""Crews that act together: shared posting and boosting, and spam / engagement farms.

Crews are handled all at once (grouped by their cluster id), not one Python loop per crew.
"""

from __future__ import annotations

import numpy as np
import polars as pl

from simulator import catalog as cat
from simulator.base import HOUR, MINUTE, SECOND, Day, csr, uniform_times
from simulator.feed import PostPool, engagement_frames, post_frames
from simulator.graph import Graph
from simulator.identity import home_context
from simulator.population import SPAM, Population
from simulator.social import follow_frames, message_frames, negative_frames
from simulator.tactics import Tactics


def active_from(pop: Population, users: np.ndarray) -> np.ndarray:
    """When a crew member starts acting: sign-up, or later when the account was aged first."""
    return np.maximum(pop.reg_us[users], pop.fraud_from[users])


def alive_crew(pop: Population, typ: int, *, day: Day) -> np.ndarray:
    started = (pop.reg_us < day.d1) & (pop.fraud_from < day.d1)
    return np.flatnonzero((pop.typology == typ) & started & (pop.banned_us > day.d1))


def group_crews(pop: Population, crew: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Crew members grouped by cluster: (sorted members, row pointer, cluster -> row)."""
    ids, row = np.unique(pop.cluster[crew], return_inverse=True)
    order, ptr = csr(row, ids.size)
    lookup = np.full(int(pop.cluster.max()) + 2, -1, dtype=np.int64)
    lookup[ids] = np.arange(ids.size)
    return crew[order], ptr, lookup


def boost(
    pop: Population,
    pool: PostPool,
    *,
    crew: np.ndarray,
    day: Day,
    rng: np.random.Generator,
    posts: float,
    like: float,
    share: float,
    spam: bool = False,
) -> list[pl.DataFrame]:
    """Crews post, then view, like and share each other's posts within the hour."""
    author = np.repeat(crew, rng.poisson(posts, crew.size))
    ts = np.maximum(
        uniform_times(rng, author.size, lo=day.d0, hi=day.d1 - 2 * HOUR),
        active_from(pop, author) + MINUTE,
    )
    keep = ts < day.d1 - HOUR
    author, ts = author[keep], ts[keep]
    if author.size == 0:
        return []
    first = pool.author.size
    topic = rng.choice(len(cat.TOPICS), size=author.size)
    quality = rng.uniform(0.01, 0.12, author.size) if spam else pop.quality[author]
    out = [
        post_frames(
            pop,
            pool,
            author=author,
            ts=ts,
            topic=topic,
            quality=quality,
            has_link=rng.random(author.size) < (0.95 if spam else 0.3),
            ctx=home_context(pop, author),
            rng=rng,
            spam=spam,
        )
    ]
    members, ptr, row = group_crews(pop, crew)
    post_row = row[pop.cluster[author]]
    sizes = ptr[post_row + 1] - ptr[post_row]
    rep = np.repeat(np.arange(author.size), sizes)
    offs = np.arange(rep.size) - np.repeat(np.cumsum(sizes) - sizes, sizes)
    viewer = members[ptr[post_row[rep]] + offs]
    p = first + rep
    vt = pool.ts[p] + uniform_times(rng, p.size, lo=MINUTE, hi=50 * MINUTE)
    ok = (viewer != author[rep]) & (pop.reg_us[viewer] < vt)
    p, viewer, vt = p[ok], viewer[ok], vt[ok]
    ctx = home_context(pop, viewer)
    pos = rng.integers(0, 3, p.size)
    out.append(
        engagement_frames(
            pop,
            pool,
            viewer=viewer,
            post=p,
            kind=0,
            ts=vt,
            position=pos,
            ctx=ctx,
            dwell=rng.integers(300, 2500, p.size),
        )
    )
    for kind, prob in ((1, like), (3, share)):
        h = np.flatnonzero(rng.random(p.size) < prob)
        out.append(
            engagement_frames(
                pop,
                pool,
                viewer=viewer[h],
                post=p[h],
                kind=kind,
                ts=vt[h] + 3 * SECOND,
                position=pos[h],
                ctx=ctx.gather(h),
            )
        )
        if kind == 1:
            np.add.at(pool.likes, p[h], 1.0)
    return out


def spam_farms(
    pop: Population, graph: Graph, *, pool: PostPool, day: Day, tactics: Tactics
) -> list[pl.DataFrame]:
    rng = day.rng("spam")
    crew = alive_crew(pop, SPAM, day=day)
    if crew.size == 0:
        return []
    posts, like, share = tactics.spam_boost
    out = boost(
        pop, pool, crew=crew, day=day, rng=rng, posts=posts, like=like, share=share, spam=True
    )
    eligible = np.flatnonzero(
        (pop.reg_us < day.d0) & (pop.banned_us > day.d1) & (pop.typology == 0)
    )
    if eligible.size == 0:
        return out
    # Link messages to strangers, one each; many recipients push back.
    sender = np.repeat(crew, rng.poisson(tactics.spam_messages, crew.size))
    to = eligible[rng.integers(0, eligible.size, sender.size)]
    ts = np.maximum(
        uniform_times(rng, sender.size, lo=day.d0, hi=day.d1), active_from(pop, sender) + MINUTE
    )
    keep = ts < day.d1
    sender, to, ts = sender[keep], to[keep], ts[keep]
    out.append(
        message_frames(
            pop,
            sender=sender,
            receiver=to,
            ts=ts,
            has_link=np.ones(sender.size, bool),
            ctx=home_context(pop, sender),
            rng=rng,
        )
    )
    r = rng.random(sender.size)
    for et, lo, hi in (("USER_REPORTED", 0.0, 0.04), ("USER_BLOCKED", 0.04, 0.12)):
        h = np.flatnonzero((r >= lo) & (r < hi))
        out.append(
            negative_frames(
                pop,
                et=et,
                src=to[h],
                dst=sender[h],
                ts=ts[h] + uniform_times(rng, h.size, lo=MINUTE, hi=6 * HOUR),
                ctx=home_context(pop, to[h]),
                reason=np.zeros(h.size, np.int64) if et == "USER_REPORTED" else None,
            )
        )
    # Follow-for-follow: mass follows of random accounts.
    f_src = np.repeat(crew, rng.poisson(tactics.spam_follows, crew.size))
    f_dst = eligible[rng.integers(0, eligible.size, f_src.size)]
    f_ts = np.maximum(
        uniform_times(rng, f_src.size, lo=day.d0, hi=day.d1), active_from(pop, f_src) + MINUTE
    )
    keep = f_ts < day.d1
    f_src, f_dst, f_ts = f_src[keep], f_dst[keep], f_ts[keep]
    acc = graph.add_follow(f_src, f_dst, pop=pop)
    out.append(
        follow_frames(
            pop,
            src=f_src[acc],
            dst=f_dst[acc],
            ts=f_ts[acc],
            source=np.full(int(acc.sum()), 2),
            ctx=home_context(pop, f_src[acc]),
        )
    )
    return out

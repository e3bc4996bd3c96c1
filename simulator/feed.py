"""Posts and the feed: what people write, what they are shown and what they engage with.

Engagement follows a latent affinity = interest of the viewer in the post's topic × the post's
quality (both only in the ground truth), damped by feed position, so an oracle ranking exists.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import polars as pl

from simulator import catalog as cat
from simulator.base import (
    DAY,
    MINUTE,
    SECOND,
    Day,
    csr,
    exp_delay,
    pick_in_groups,
    pick_weighted,
)
from simulator.identity import Sessions
from simulator.ids import random_uuids
from simulator.population import Population
from simulator.social import Graph, follow_frames, negative_frames
from simulator.wire import frame, obj

POOL_DAYS = 3
VISIBILITY = np.array(["public", "friends", "private"])
ENGAGEMENTS = np.array(["view", "like", "comment", "share"])


@dataclass
class PostPool:
    """Posts of the last few days (what a feed can still show) plus the ground truth of all."""

    pid: pl.Series = field(default_factory=lambda: pl.Series([], dtype=pl.String))
    author: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    topic: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    quality: np.ndarray = field(default_factory=lambda: np.zeros(0))
    ts: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    visible: np.ndarray = field(default_factory=lambda: np.zeros(0, bool))
    likes: np.ndarray = field(default_factory=lambda: np.zeros(0))
    spam: np.ndarray = field(default_factory=lambda: np.zeros(0, bool))
    truth: list[pl.DataFrame] = field(default_factory=list)

    def add(
        self,
        pop: Population,
        *,
        pid: pl.Series,
        author: np.ndarray,
        topic: np.ndarray,
        quality: np.ndarray,
        ts: np.ndarray,
        visible: np.ndarray,
        spam: np.ndarray,
    ) -> None:
        self.pid = pl.concat([self.pid, pid])
        self.author = np.concatenate([self.author, author])
        self.topic = np.concatenate([self.topic, topic])
        self.quality = np.concatenate([self.quality, quality])
        self.ts = np.concatenate([self.ts, ts])
        self.visible = np.concatenate([self.visible, visible])
        self.likes = np.concatenate([self.likes, np.zeros(author.size)])
        self.spam = np.concatenate([self.spam, spam])
        self.truth.append(
            pl.DataFrame(
                {
                    "post_id": pid,
                    "author_id": pop.uid.gather(author),
                    "created_at": pl.Series(ts).cast(pl.Datetime("us", "UTC")),
                    "topic": pl.Series(np.asarray(cat.TOPICS)[topic]),
                    "quality": quality,
                    "is_spam": spam,
                }
            )
        )

    def expire(self, now: int) -> None:
        keep = self.ts >= now - POOL_DAYS * DAY
        self.pid = self.pid.filter(pl.Series(keep))
        for name in ("author", "topic", "quality", "ts", "visible", "likes", "spam"):
            setattr(self, name, getattr(self, name)[keep])


def post_frames(
    pop: Population,
    pool: PostPool,
    *,
    author: np.ndarray,
    ts: np.ndarray,
    topic: np.ndarray,
    quality: np.ndarray,
    has_link: np.ndarray,
    ctx: pl.Series,
    rng: np.random.Generator,
    spam: bool = False,
) -> pl.DataFrame:
    n = author.size
    pid = random_uuids(rng, n)
    vis = rng.choice(3, size=n, p=[1.0, 0.0, 0.0] if spam else [0.8, 0.17, 0.03])
    length = np.clip(rng.lognormal(4.6 if not spam else 3.5, 0.9, n), 0, 20000).astype(np.int64)
    pay = obj(
        n,
        [
            ("visibility", "s", pl.Series(VISIBILITY[vis])),
            ("topic", "s", pl.Series(np.asarray(cat.TOPICS)[topic])),
            ("text_length", "i", length),
            ("has_link", "b", has_link),
            ("has_media", "b", rng.random(n) < (0.2 if spam else 0.45)),
        ],
    )
    pool.add(
        pop,
        pid=pid,
        author=author,
        topic=topic,
        quality=quality,
        ts=ts,
        visible=vis < 2,
        spam=np.full(n, spam),
    )
    uid = pop.uid.gather(author)
    return frame("POST_CREATED", ts, actor=uid, subject=pid, payload=pay, ctx=ctx)


def engagement_frames(
    pop: Population,
    pool: PostPool,
    *,
    viewer: np.ndarray,
    post: np.ndarray,
    kind: int,
    ts: np.ndarray,
    position: np.ndarray,
    ctx: pl.Series,
    dwell: np.ndarray | None = None,
) -> pl.DataFrame:
    n = viewer.size
    dwell_s = (
        pl.Series(dwell, dtype=pl.Int64)
        if dwell is not None
        else pl.repeat(None, n, dtype=pl.Int64, eager=True)
    )
    pay = obj(
        n,
        [
            ("engagement", "s", str(ENGAGEMENTS[kind])),
            ("author_id", "s", pop.uid.gather(pool.author[post])),
            ("dwell_ms", "i", dwell_s),
            ("feed_position", "i", position),
        ],
    )
    return frame(
        "POST_ENGAGED",
        ts,
        actor=pop.uid.gather(viewer),
        subject=pool.pid.gather(post),
        payload=pay,
        ctx=ctx,
    )


def pick_topics(rng: np.random.Generator, weights: np.ndarray) -> np.ndarray:
    cdf = np.cumsum(weights, axis=1)
    return (
        (cdf < rng.random(weights.shape[0])[:, None] * cdf[:, -1:])
        .sum(axis=1)
        .clip(0, weights.shape[1] - 1)
    )


def daily(
    pop: Population, graph: Graph, *, pool: PostPool, sess: Sessions, day: Day
) -> list[pl.DataFrame]:
    rng = day.rng("feed")
    out: list[pl.DataFrame] = []
    honest = pop.honest_life()[sess.user]
    # --- writing: creators post often, most people rarely
    p_post = np.minimum(0.6, 0.07 * pop.creator[sess.user])
    wp = np.flatnonzero(honest & (rng.random(len(sess)) < p_post))
    a = sess.user[wp]
    quality = np.clip(pop.quality[a] + rng.normal(0, 0.15, a.size), 0.01, 0.99)
    out.append(
        post_frames(
            pop,
            pool,
            author=a,
            ts=sess.ts[wp] + exp_delay(rng, a.size, mean=4 * MINUTE),
            topic=pick_topics(rng, pop.interests[a]),
            quality=quality,
            has_link=rng.random(a.size) < 0.12,
            ctx=sess.ctx.gather(wp),
            rng=rng,
        )
    )
    pool.expire(day.d0)
    # --- reading: followed authors, the community, and what is popular right now
    views = rng.poisson(3.0, len(sess)) * honest
    s = np.repeat(np.arange(len(sess)), views)
    pos = np.arange(s.size) - np.repeat(np.cumsum(views) - views, views)
    viewer = sess.user[s]
    src = rng.random(s.size)
    post = np.full(s.size, -1, dtype=np.int64)
    a_order, a_ptr = csr(pool.author, pop.n)
    fol = np.flatnonzero(src < 0.4)
    f = graph.followee(rng, viewer[fol])
    got = pick_in_groups(rng, order=a_order, indptr=a_ptr, groups=np.maximum(f, 0))
    post[fol] = np.where(f >= 0, got, -1)
    pc = pop.community[pool.author]
    c_order, c_ptr = csr(pc, pop.n_communities)
    com = np.flatnonzero((src >= 0.4) & (src < 0.75))
    post[com] = pick_in_groups(rng, order=c_order, indptr=c_ptr, groups=pop.community[viewer[com]])
    rest = np.flatnonzero(post < 0)
    weight = pool.visible * pool.quality * (1.0 + pool.likes) ** 0.7
    post[rest] = pick_weighted(rng, weight, n=rest.size) if pool.ts.size else -1
    ts = sess.ts[s] + pos * (3 * SECOND + (rng.random(s.size) * 40 * SECOND).astype(np.int64))
    pp = np.maximum(post, 0)
    ok = (
        (post >= 0) & (pool.ts[pp] < ts) & pool.visible[pp] & (pool.author[pp] != viewer)
        if pool.ts.size
        else post >= 0
    )
    s, pos, viewer, post, ts = s[ok], pos[ok], viewer[ok], post[ok], ts[ok]
    affinity = pop.interests[viewer, pool.topic[post]] * pool.quality[post]
    dwell = np.clip(rng.lognormal(np.log(1200) + 3.0 * affinity, 0.8), 200, 600_000).astype(
        np.int64
    )
    ctx = sess.ctx.gather(s)
    out.append(
        engagement_frames(
            pop, pool, viewer=viewer, post=post, kind=0, ts=ts, position=pos, ctx=ctx, dwell=dwell
        )
    )
    p_like = np.clip(0.01 + 1.3 * affinity, 0, 0.7) / (1.0 + 0.04 * pos)
    likes = rng.random(s.size) < p_like
    for kind, share in ((1, 1.0), (2, 0.25), (3, 0.12)):
        hit = (
            np.flatnonzero(rng.random(s.size) < p_like * share)
            if kind > 1
            else np.flatnonzero(likes)
        )
        e_ts = ts[hit] + dwell[hit] + SECOND
        out.append(
            engagement_frames(
                pop,
                pool,
                viewer=viewer[hit],
                post=post[hit],
                kind=kind,
                ts=e_ts,
                position=pos[hit],
                ctx=ctx.gather(hit),
            )
        )
    np.add.at(pool.likes, post[likes], 1.0)
    # --- a liked post sometimes wins its author a follower
    lk = np.flatnonzero(likes & (rng.random(s.size) < 0.05))
    acc = graph.add_follow(viewer[lk], pool.author[post[lk]], pop=pop)
    lk = lk[acc]
    out.append(
        follow_frames(
            pop,
            src=viewer[lk],
            dst=pool.author[post[lk]],
            ts=ts[lk] + dwell[lk] + 2 * SECOND,
            source=np.full(lk.size, 3),
            ctx=ctx.gather(lk),
        )
    )
    # --- spam in the feed gets reported and its author blocked
    for et, p, reason in (("USER_REPORTED", 0.008, 0), ("USER_BLOCKED", 0.012, None)):
        hit = np.flatnonzero(pool.spam[post] & (rng.random(s.size) < p))
        out.append(
            negative_frames(
                pop,
                et=et,
                src=viewer[hit],
                dst=pool.author[post[hit]],
                ts=ts[hit] + dwell[hit] + 3 * SECOND,
                ctx=ctx.gather(hit),
                reason=None if reason is None else np.full(hit.size, reason),
            )
        )
    return out

"""Feed timelines and versions in Redis (redis-py with hiredis, pipelines, no transactions on
the read path: each read is one pipeline, i.e. one round trip).

The read path avoids a thousand small values: redis-py packs each argument and pairs each reply
in Python, which for an HMGET of every post of a window cost more than the server's work. So a
viewer's scores are one JSON string (``base.viewer_records``), and a version's author policy is
read once per process.

Writes go in pipelines of ``batch`` commands: a fan-out touches one sorted set per follower, a
publish one hash per viewer, and a few hundred commands per round trip keeps both the client's
memory and the server's latency for other clients small.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any, cast

import polars as pl
import redis

from serving.feed.base import FeedManifest, Signals, Window, read_record, viewer_records
from serving.feed.guard import REQUEST_TIMEOUT_S, new_breaker
from serving.keys import (
    FEED_META_FIELDS,
    MEMBER_SEP,
    SLOT_GROUPS,
    TIMELINE_CAP,
    FeedKeys,
)

_INF = "+inf"


def _chunks(frame: pl.DataFrame, key: str) -> Iterator[tuple[str, pl.DataFrame]]:
    """``(key value, its rows)`` for each distinct ``key``."""
    for (value,), part in frame.partition_by(key, as_dict=True, maintain_order=True).items():
        yield str(value), part


class RedisFeed:
    """Both feed protocols over one Redis client (``decode_responses=True``)."""

    def __init__(
        self,
        client: redis.Redis | redis.RedisCluster,
        *,
        keys: FeedKeys | None = None,
        batch: int = 500,
    ) -> None:
        self.client = client
        self.keys = keys or FeedKeys()
        self.batch = batch
        self.breaker = new_breaker()  # the request side's (``serving.feed.guard``)
        self._versions: dict[str, tuple[FeedManifest, dict[str, str]]] = {}

    @classmethod
    def from_url(
        cls,
        url: str,
        *,
        keys: FeedKeys | None = None,
        timeout_s: float = REQUEST_TIMEOUT_S,
        cluster: bool = False,
    ) -> RedisFeed:
        # Without a socket timeout a hung server holds every request thread that reads a feed.
        kind = redis.RedisCluster if cluster else redis.Redis
        client = kind.from_url(
            url, decode_responses=True, socket_timeout=timeout_s, socket_connect_timeout=timeout_s
        )
        return cls(client, keys=keys)

    def close(self) -> None:
        self.client.close()

    # -- Timelines ------------------------------------------------------------------------
    def push(self, entries: pl.DataFrame, *, cap: int = TIMELINE_CAP) -> int:
        frame = entries.select(
            "viewer_id", "post_id", "author_id", ts=pl.col("created_at").dt.epoch("us")
        ).select(
            "viewer_id",
            "ts",
            member=pl.concat_str(
                pl.col("ts").cast(pl.String),
                pl.lit(MEMBER_SEP),
                "post_id",
                pl.lit(MEMBER_SEP),
                "author_id",
            ),
        )
        pipe = self.client.pipeline(transaction=False)
        queued = 0
        for viewer, part in _chunks(frame, "viewer_id"):
            key = self.keys.timeline(viewer)
            pipe.zadd(key, dict(zip(part["member"].to_list(), part["ts"].to_list(), strict=True)))
            pipe.zremrangebyrank(key, 0, -(cap + 1))  # keep the newest ``cap``
            queued += 2
            if queued >= self.batch:
                pipe.execute()
                queued = 0
        if queued:
            pipe.execute()
        return frame.height

    def window(
        self, viewer_id: str, *, newest: int | None, oldest: int | None, limit: int
    ) -> Window:
        pipe = self.client.pipeline(transaction=False)
        pipe.get(self.keys.viewer_current(viewer_id))
        pipe.zrevrangebyscore(
            self.keys.timeline(viewer_id),
            _INF if newest is None else newest,
            "-inf" if oldest is None else oldest,
            start=0,
            num=limit,
        )
        current, members = pipe.execute()
        # One join and one split instead of a split per member: a third of the read's time.
        parts = MEMBER_SEP.join(members).split(MEMBER_SEP) if members else []
        return Window(current, parts[1::3], parts[2::3], list(map(int, parts[0::3])))

    def signals(
        self, version: str, viewer_id: str, *, posts: Sequence[str], authors: Sequence[str]
    ) -> Signals | None:
        # A version never changes once written, so its manifest and author policy (flagged
        # and low-trust authors only: a small hash) are read once per process and version;
        # a read then costs an EXISTS and a GET, not an HMGET of a few hundred authors.
        known_version = self._versions.get(version)
        if known_version is None:
            pipe = self.client.pipeline(transaction=False)
            pipe.hgetall(self.keys.meta(version))
            pipe.hgetall(self.keys.authors(version))
            pipe.get(self.keys.scores(version, viewer_id))
            meta, policy, raw = pipe.execute()
            if not meta:
                return None
            known_version = (FeedManifest.decode(meta), policy)
            while len(self._versions) >= 4:  # a reader needs the current one and its successor
                self._versions.pop(next(iter(self._versions)))
            self._versions[version] = known_version
        else:  # still there? (a cursor may pin a version that has since been dropped)
            pipe = self.client.pipeline(transaction=False)
            pipe.get(self.keys.viewer_current(viewer_id))  # the current one always is
            pipe.get(self.keys.scores(version, viewer_id))
            current, raw = pipe.execute()
            if current != version and not self.client.exists(self.keys.meta(version)):
                self._versions.pop(version, None)
                return None
        manifest, policy = known_version
        known, fresh, stale = read_record(raw)
        marks = [policy.get(a) for a in authors]
        return Signals(
            manifest=manifest,
            scores=[known.get(p) for p in posts],
            fresh=fresh,
            stale=stale,
            flagged=frozenset(a for a, m in zip(authors, marks, strict=True) if m == "flagged"),
            low_trust=frozenset(a for a, m in zip(authors, marks, strict=True) if m == "low_trust"),
        )

    # -- FeedVersions ---------------------------------------------------------------------
    def write(
        self,
        version: str,
        *,
        scores: pl.DataFrame,
        priors: pl.DataFrame,
        authors: pl.DataFrame,
        manifest: FeedManifest,
    ) -> None:
        k = self.keys
        # Listed first, so a write that dies half-way is still found and dropped later.
        self.client.zadd(k.versions, {version: manifest.published_at.timestamp()})
        pipe = self.client.pipeline(transaction=False)
        queued = 0
        viewers = []
        for viewer, record in viewer_records(scores, priors):
            viewers.append(viewer)
            pipe.set(k.scores(version, viewer), record)
            queued += 1
            if queued >= self.batch:
                pipe.execute()
                queued = 0
        for start in range(0, len(viewers), 10_000):
            pipe.sadd(k.viewers(version), *viewers[start : start + 10_000])
        # An author both flagged and low-trust is flagged: the stronger policy wins.
        marks = authors.sort(pl.col("policy") == "flagged").unique("author_id", keep="last")
        items = list(zip(marks["author_id"].to_list(), marks["policy"].to_list(), strict=True))
        for start in range(0, len(items), 10_000):
            pipe.hset(k.authors(version), mapping=dict(items[start : start + 10_000]))
        # last: marks the write complete (redis-py types mapping keys invariantly, so it refuses
        # a dict[str, str])
        pipe.hset(k.meta(version), mapping=manifest.encode())  # type: ignore[arg-type]
        pipe.execute()

    def flip(self, version: str) -> None:
        pointers = {self.keys.current_for(g): version for g in range(SLOT_GROUPS)}
        if isinstance(self.client, redis.RedisCluster):  # slot by slot, then the listing's
            self.client.mset_nonatomic(pointers)
            self.client.set(self.keys.current, version)
        else:  # one MSET: every reader flips at once
            self.client.mset({**pointers, self.keys.current: version})

    def versions(self) -> tuple[str | None, list[FeedManifest | str]]:
        k = self.keys
        ids = cast(list[str], self.client.zrange(k.versions, 0, -1))  # decode_responses=True
        pipe = self.client.pipeline(transaction=False)
        pipe.get(k.current)
        for version in ids:
            pipe.hmget(k.meta(version), list(FEED_META_FIELDS))
        current, *metas = pipe.execute()
        found: list[FeedManifest | str] = []
        for version, values in zip(ids, metas, strict=True):
            complete = all(v is not None for v in values)
            found.append(
                FeedManifest.decode(dict(zip(FEED_META_FIELDS, values, strict=True)))
                if complete
                else version
            )
        return current, found

    def drop(self, version: str) -> None:
        k = self.keys
        doomed: list[Any] = []
        for viewer in self.client.sscan_iter(k.viewers(version), count=1000):
            doomed.append(k.scores(version, viewer))
            if len(doomed) >= 1000:
                self.client.unlink(*doomed)
                doomed = []
        doomed += [k.viewers(version), k.authors(version), k.meta(version)]
        self.client.unlink(*doomed)
        self.client.zrem(k.versions, version)

"""The production online store: Redis (redis-py with the hiredis reply parser).

Publishing codes the version's reasons (``serving.codes``, one dictionary ``SET`` beside the
pages), formats every user's line in polars (Rust) into one Arrow string column sorted by
page; its value buffer then *is* the pages' contents, so one ``SET`` per page is a header plus
a slice of that buffer, and no per-record Python object is ever made. A sender thread keeps
Redis busy while the next chunk is encoded. Decisions send one hand-packed pipeline (pointer,
page, counters, novelty) and read its replies: one round trip, no MULTI, so it also works shard
by shard on a Redis Cluster (each INCR is atomic on its own; the window index in a counter's
key makes a lost EXPIRE harmless).
"""

from __future__ import annotations

import queue
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any, cast

import numpy as np
import polars as pl
import redis
from tqdm import tqdm

from serving import codes, keys
from serving.keys import Manifest, ScoreRecord
from serving.store import resp
from serving.store.base import Ask, Facts, Served
from serving.store.cluster import ClusterWire, SlotMap, slot
from serving.store.pages import CHUNK_RECORDS, Pages, Sender, page_aligned
from serving.store.resp import Wire


class RedisStore:
    """``ScoreStore`` and ``DecisionStore`` on one Redis server (``redis://host:port/db``)."""

    def __init__(
        self,
        url: str,
        *,
        timeout_s: float = 0.05,
        progress: bool = False,
        cluster: bool = False,
    ) -> None:
        # Decisions must answer within their budget even when Redis stalls: short timeouts, no
        # retries here (the decision layer's circuit breaker decides what a failure means).
        self.client: redis.Redis | redis.RedisCluster
        self._bulk: redis.Redis | redis.RedisCluster
        self.slots: SlotMap | None = None
        if cluster:  # ``url`` names any node; redis-py finds the rest
            self.client = redis.RedisCluster.from_url(
                url, socket_timeout=timeout_s, socket_connect_timeout=timeout_s
            )
            self._bulk = redis.RedisCluster.from_url(url, socket_timeout=60)
            self.slots = SlotMap(self._bulk)
            self.wire: Wire = ClusterWire(url, self.slots, timeout_s=timeout_s)
        else:
            self.client = redis.Redis.from_url(
                url,
                socket_timeout=timeout_s,
                socket_connect_timeout=timeout_s,
                retry_on_timeout=False,
            )
            self._bulk = redis.Redis.from_url(url, socket_timeout=60)  # publishing takes seconds
            self.wire = Wire(url, timeout_s=timeout_s)
        self.progress = progress
        self._served: Served | None = None

    # --- publisher side -------------------------------------------------------------------
    def write(self, version: str, scores: pl.DataFrame, *, manifest: Manifest) -> None:
        # Registered first (with its page count), so a publisher dying half-way leaves a
        # version the pruner can find and remove completely.
        self._bulk.zadd(keys.VERSIONS, {version: manifest.published_at.timestamp()})
        self._bulk.hset(keys.meta_key(version), "pages", manifest.pages)
        book, coded = codes.code_reasons(scores)
        manifest = replace(manifest, reason_codes=len(book))
        self._bulk.set(keys.codes_key(version), codes.dumps(book))
        lines = Pages(coded, pages=manifest.pages)
        targets, node_of = self._targets()
        senders = [Sender(t, queue.Queue(maxsize=4)) for t in targets]
        for sender in senders:
            sender.start()
        try:
            with tqdm(
                total=scores.height,
                desc="publish",
                unit="rec",
                disable=not self.progress,
                leave=False,
            ) as bar:
                for lo, hi in page_aligned(lines.pages, CHUNK_RECORDS):
                    if any(s.error is not None for s in senders):
                        break
                    for node, blob in lines.commands(
                        version, lo=lo, hi=hi, node_of=node_of
                    ).items():
                        senders[node].blobs.put(blob)
                    bar.update(hi - lo)
        finally:
            for sender in senders:
                sender.blobs.put(None)
            for sender in senders:
                sender.join()
        for sender in senders:
            if sender.error is not None:
                raise sender.error
        # redis-py types mapping keys invariantly, so it refuses a dict[str, str]
        self._bulk.hset(keys.meta_key(version), mapping=manifest.encode())  # type: ignore[arg-type]

    def flip(self, version: str) -> None:
        if not self._bulk.hexists(keys.meta_key(version), "records"):
            raise ValueError(f"version {version} is not complete: refusing to point readers at it")
        # Readers read their group's copy of the pointer, beside their page (``keys``).
        pointers = {keys.current_key(g): version for g in range(keys.SLOT_GROUPS)}
        if isinstance(self._bulk, redis.RedisCluster):
            # Slot by slot: each reader still sees its old page or its new one, never a mix.
            self._bulk.mset_nonatomic(pointers)
            self._bulk.set(keys.CURRENT, version)
        else:  # one MSET: every reader flips at once
            self._bulk.mset({**pointers, keys.CURRENT: version})

    def versions(self) -> tuple[str | None, list[Manifest]]:
        # Without decode_responses replies are bytes, which redis-py's types cannot tell.
        current = cast(bytes | None, self._bulk.get(keys.CURRENT))
        listed = cast(
            list[tuple[bytes, float]], self._bulk.zrange(keys.VERSIONS, 0, -1, withscores=True)
        )
        pipe = self._bulk.pipeline(transaction=False)
        for version, _ in listed:
            pipe.hgetall(keys.meta_key(version.decode()))
        out = []
        for (version, published), meta in zip(listed, pipe.execute(), strict=True):
            out.append(_manifest(version.decode(), published, meta))
        return (current.decode() if current else None), out

    def drop(self, version: str) -> None:
        # UNLINK frees memory in a background thread: dropping a million records costs the
        # server no pause.
        pages = int(self._bulk.hget(keys.meta_key(version), "pages") or 0)
        for start in range(0, pages, 1024):
            self._bulk.unlink(
                *(keys.page_key(version, p) for p in range(start, min(start + 1024, pages)))
            )
        self._bulk.unlink(keys.meta_key(version), keys.codes_key(version))
        self._bulk.zrem(keys.VERSIONS, version)

    # --- request side ---------------------------------------------------------------------
    def fetch(self, ask: Ask) -> Facts:
        served = self._served
        cached = served.manifest if served else None
        version = cached.version if cached else ""
        hashed = keys.user_hash(ask.user_id)
        pointer = keys.current_key(hashed % keys.SLOT_GROUPS)
        # Nothing cached yet: a page key under the user's tag all the same (one node per trip)
        page_key = keys.page_key(version, hashed % (cached.pages if cached else keys.SLOT_GROUPS))
        override_key = keys.override_key(ask.user_id)
        # (key, command, replies): each incr_expire is two commands, so two replies
        commands = [(pointer, resp.get(pointer), 1), (page_key, resp.get(page_key), 1)]
        commands.append((override_key, resp.get(override_key), 1))
        commands += [(c.key, resp.incr_expire(c.key, c.window_s), 2) for c in ask.counters]
        for kind, value in (("device", ask.device), ("country", ask.country)):
            if value is not None:
                seen = keys.seen_key(ask.user_id, kind)
                commands.append((seen, resp.sismember(seen, value), 1))
        replies = self._roundtrip(commands)
        current, text, override = replies[0], replies[1], replies[2]
        if current is None:
            served, text = None, None
        elif current.decode() != version:  # a flip since we last looked: one more trip, rarely
            served = self._load_manifest(current.decode())
            pages = served.manifest.pages if served else 1
            text = self.client.get(keys.page_key(current.decode(), keys.page(ask.user_id, pages)))
        self._served = served
        raw = keys.find_record(text, ask.user_id) if text else None
        counts = tuple(int(replies[3 + 2 * i]) for i in range(len(ask.counters)))
        tail = iter(replies[3 + 2 * len(ask.counters) :])
        new_device = None if ask.device is None else not next(tail)
        new_country = None if ask.country is None else not next(tail)
        return Facts(
            manifest=served.manifest if served else None,
            record=(
                ScoreRecord.decode(raw, served.book if served else None)
                if raw is not None
                else None
            ),
            counts=counts,
            new_device=new_device,
            new_country=new_country,
            override=override.decode() if override is not None else None,
        )

    def _roundtrip(self, commands: list[tuple[str, bytes, int]]) -> list[Any]:
        """Every reply, in order: one send to one server, or on a cluster one batch per slot
        (the user's, and a per-IP counter's if it is elsewhere), all sent before any read."""
        if not isinstance(self.wire, ClusterWire):
            return self.wire.roundtrip(
                b"".join(c[1] for c in commands), sum(c[2] for c in commands)
            )
        by_slot: dict[int, list[int]] = {}
        for i, (key, _, _) in enumerate(commands):
            by_slot.setdefault(slot(key), []).append(i)
        batches = [
            (s, b"".join(commands[i][1] for i in idx), sum(commands[i][2] for i in idx))
            for s, idx in by_slot.items()
        ]
        placed: list[list[Any]] = [[] for _ in commands]
        for idx, replies in zip(by_slot.values(), self.wire.by_slot(batches), strict=True):
            at = 0
            for i in idx:
                placed[i] = replies[at : at + commands[i][2]]
                at += commands[i][2]
        return [r for part in placed for r in part]

    def _targets(self) -> tuple[list[redis.Redis], np.ndarray | None]:
        """Where pages go: the one server, or each primary and the node of each group."""
        if self.slots is None:
            return [cast(redis.Redis, self._bulk)], None
        self.slots.refresh()
        where = self.slots.group_nodes()
        nodes = sorted(set(where))
        bulk = cast(redis.RedisCluster, self._bulk)
        targets = [bulk.get_node(host=h, port=p).redis_connection for h, p in nodes]
        return cast(list[redis.Redis], targets), np.array([nodes.index(a) for a in where])

    def override(self, user_id: str, action: str | None) -> None:
        if action is None:
            self.client.delete(keys.override_key(user_id))
            return
        if action not in keys.OVERRIDES:
            raise ValueError(f"not an override: {action!r}")
        self.client.set(keys.override_key(user_id), action)

    def remember(self, user_id: str, *, device: str | None, country: str | None) -> None:
        pipe = self.client.pipeline(transaction=False)
        if device is not None:
            pipe.sadd(keys.seen_key(user_id, "device"), device)
        if country is not None:
            pipe.sadd(keys.seen_key(user_id, "country"), country)
        pipe.execute()

    def close(self) -> None:
        self.wire.close()
        self.client.close()
        self._bulk.close()

    def _load_manifest(self, version: str) -> Served | None:
        """The version's manifest and reason dictionary, in one pipeline (both are written
        before the flip, so a version readers are pointed at has both)."""
        pipe = self.client.pipeline(transaction=False)
        pipe.hgetall(keys.meta_key(version))
        pipe.get(keys.codes_key(version))
        meta, book = pipe.execute()
        if not meta.get(b"records"):
            return None
        manifest = _manifest(version, None, meta)
        if manifest.reason_codes is None:  # published before reason codes: text reasons
            return Served(manifest, None)
        if book is None:
            raise LookupError(f"version {version} has reason codes but no dictionary")
        return Served(manifest, codes.loads(book))


def _manifest(version: str, published: float | None, meta: dict) -> Manifest:
    raw = {k.decode(): v.decode() for k, v in meta.items()}
    if "records" in raw:
        return Manifest.decode(raw)
    when = datetime.fromtimestamp(published or 0, UTC)
    return Manifest(
        version=version,
        published_at=when,
        scored_at=when,
        model_version="",
        snapshot="",
        records=-1,
        pages=int(raw.get("pages", 0)),
    )

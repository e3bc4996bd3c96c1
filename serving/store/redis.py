"""The production online store: Redis (redis-py with the hiredis reply parser).

Publishing formats every user's line in polars (Rust) into one Arrow string column sorted by
page; its value buffer then *is* the pages' contents, so one ``SET`` per page is a header plus
a slice of that buffer, and no per-record Python object is ever made. A sender thread keeps
Redis busy while the next chunk is encoded. Decisions send one hand-packed pipeline (pointer,
page, counters, novelty) and read its replies: one round trip, no MULTI, so it also works shard
by shard on a Redis Cluster (each INCR is atomic on its own; the window index in a counter's
key makes a lost EXPIRE harmless).
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any, cast

import numpy as np
import polars as pl
import pyarrow as pa
import redis
from tqdm import tqdm

from serving import keys
from serving.keys import Manifest, ScoreRecord
from serving.store import resp
from serving.store.base import Ask, Facts
from serving.store.resp import Wire

_GET_CURRENT = resp.get(keys.CURRENT)
CHUNK_RECORDS = 100_000  # records per send: big enough to amortise, small enough to overlap


class _Pages:
    """Every user's ``\n{user_id}|{record}`` line, formatted by polars and sorted by page: the
    Arrow value buffer of that column *is* the pages' contents back to back, so a ``SET`` per
    page is a header plus a slice of it, and no per-record Python object is ever made.
    (Formatting in the input order, then gathering the strings, is faster than sorting the
    frame first; formatting chunk by chunk to overlap with Redis was slower still.)"""

    def __init__(self, scores: pl.DataFrame, *, pages: int) -> None:
        page_no = keys.page_column(scores.get_column("user_id"), pages)
        order = page_no.arg_sort()
        self.pages = page_no.gather(order).to_numpy()
        line = pl.concat_str(pl.lit("\n"), "user_id", pl.lit("|"), keys.record_expr(scores))
        lines = scores.select(line).to_series().gather(order).to_arrow()
        if isinstance(lines, pa.ChunkedArray):
            lines = lines.combine_chunks()
        _, offsets, data = lines.buffers()  # validity (may be None), offsets, values
        assert offsets is not None and data is not None
        kind: type[np.signedinteger[Any]] = (
            np.int64 if pa.types.is_large_string(lines.type) else np.int32
        )
        self.offsets = np.frombuffer(memoryview(offsets), dtype=kind)[lines.offset :]
        self.data = memoryview(data)
        self._keep = lines  # the buffers above belong to it

    def commands(self, version: str, lo: int, hi: int) -> tuple[bytes, int]:
        """``SET scores:{version}:{page} <lines>`` for the pages of rows ``[lo, hi)``."""
        pages = self.pages[lo:hi]
        starts = lo + np.flatnonzero(np.r_[True, pages[1:] != pages[:-1]])
        cuts = self.offsets[np.r_[starts, hi]].tolist()
        parts: list[bytes | memoryview] = []
        for k, page_no in enumerate(self.pages[starts].tolist()):
            key = keys.page_key(version, page_no).encode()
            a, b = cuts[k], cuts[k + 1]
            parts += (
                b"*3\r\n$3\r\nSET\r\n$%d\r\n%s\r\n$%d\r\n" % (len(key), key, b - a),
                self.data[a:b],
                b"\r\n",
            )
        return b"".join(parts), len(starts)


class RedisStore:
    """``ScoreStore`` and ``DecisionStore`` on one Redis server (``redis://host:port/db``)."""

    def __init__(self, url: str, *, timeout_s: float = 0.05, progress: bool = False) -> None:
        # Decisions must answer within their budget even when Redis stalls: short timeouts, no
        # retries here (the decision layer's circuit breaker decides what a failure means).
        self.client = redis.Redis.from_url(
            url, socket_timeout=timeout_s, socket_connect_timeout=timeout_s, retry_on_timeout=False
        )
        self._bulk = redis.Redis.from_url(url, socket_timeout=60)  # publishing may take seconds
        self.progress = progress
        self._manifest: Manifest | None = None
        self.wire = Wire(url, timeout_s=timeout_s)

    # --- publisher side -------------------------------------------------------------------
    def write(self, version: str, scores: pl.DataFrame, *, manifest: Manifest) -> None:
        # Registered first (with its page count), so a publisher dying half-way leaves a
        # version the pruner can find and remove completely.
        self._bulk.zadd(keys.VERSIONS, {version: manifest.published_at.timestamp()})
        self._bulk.hset(keys.meta_key(version), "pages", manifest.pages)
        lines = _Pages(scores, pages=manifest.pages)
        blobs: queue.Queue[tuple[bytes, int] | None] = queue.Queue(maxsize=4)
        sender = _Sender(self._bulk, blobs)
        sender.start()
        try:
            with tqdm(
                total=scores.height,
                desc="publish",
                unit="rec",
                disable=not self.progress,
                leave=False,
            ) as bar:
                for lo, hi in _page_aligned(lines.pages, CHUNK_RECORDS):
                    if sender.error is not None:
                        break
                    blobs.put(lines.commands(version, lo, hi))
                    bar.update(hi - lo)
        finally:
            blobs.put(None)
            sender.join()
        if sender.error is not None:
            raise sender.error
        # redis-py types mapping keys invariantly, so it refuses a dict[str, str]
        self._bulk.hset(keys.meta_key(version), mapping=manifest.encode())  # type: ignore[arg-type]

    def flip(self, version: str) -> None:
        if not self._bulk.hexists(keys.meta_key(version), "records"):
            raise ValueError(f"version {version} is not complete: refusing to point readers at it")
        self._bulk.set(keys.CURRENT, version)

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
        self._bulk.unlink(keys.meta_key(version))
        self._bulk.zrem(keys.VERSIONS, version)

    # --- request side ---------------------------------------------------------------------
    def fetch(self, ask: Ask) -> Facts:
        cached = self._manifest
        version = cached.version if cached else ""
        page_key = keys.page_key(version, keys.page(ask.user_id, cached.pages if cached else 1))
        commands = [_GET_CURRENT, resp.get(page_key), resp.get(keys.override_key(ask.user_id))]
        commands += [resp.incr_expire(c.key, c.window_s) for c in ask.counters]
        if ask.device is not None:
            commands.append(resp.sismember(keys.seen_key(ask.user_id, "device"), ask.device))
        if ask.country is not None:
            commands.append(resp.sismember(keys.seen_key(ask.user_id, "country"), ask.country))
        # each incr_expire is two commands, so two replies
        replies = self.wire.roundtrip(b"".join(commands), len(commands) + len(ask.counters))
        current, text, override = replies[0], replies[1], replies[2]
        if current is None:
            self._manifest, text = None, None
        elif current.decode() != version:  # a flip since we last looked: one more trip, rarely
            self._manifest = self._load_manifest(current.decode())
            pages = self._manifest.pages if self._manifest else 1
            text = self.client.get(keys.page_key(current.decode(), keys.page(ask.user_id, pages)))
        raw = keys.find_record(text, ask.user_id) if text else None
        counts = tuple(int(replies[3 + 2 * i]) for i in range(len(ask.counters)))
        tail = iter(replies[3 + 2 * len(ask.counters) :])
        new_device = None if ask.device is None else not next(tail)
        new_country = None if ask.country is None else not next(tail)
        return Facts(
            manifest=self._manifest,
            record=ScoreRecord.decode(raw) if raw is not None else None,
            counts=counts,
            new_device=new_device,
            new_country=new_country,
            override=override.decode() if override is not None else None,
        )

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

    def _load_manifest(self, version: str) -> Manifest | None:
        meta = self.client.hgetall(keys.meta_key(version))
        return _manifest(version, None, meta) if meta.get(b"records") else None


class _Sender(threading.Thread):
    """Sends RESP blobs on one connection, then reads every reply (errors included)."""

    def __init__(self, client: redis.Redis, blobs: queue.Queue) -> None:
        super().__init__(name="vouch-publish", daemon=True)
        self.client, self.blobs = client, blobs
        self.error: BaseException | None = None

    def run(self) -> None:
        pool = self.client.connection_pool
        conn = pool.get_connection()
        sent = 0
        try:
            while (item := self.blobs.get()) is not None:
                if self.error is None:
                    conn.send_packed_command([item[0]])
                    sent += item[1]
            for _ in range(sent):
                reply = conn.read_response()
                if isinstance(reply, Exception):
                    raise reply
        except BaseException as exc:  # handed to the publishing thread
            self.error = exc
            conn.disconnect()
            while self.blobs.get() is not None:  # unblock the producer
                pass
        finally:
            pool.release(conn)


def _page_aligned(pages: np.ndarray, size: int) -> Iterator[tuple[int, int]]:
    """``[lo, hi)`` row ranges of about ``size`` rows that never split a page."""
    lo = 0
    while lo < pages.size:
        hi = min(lo + size, pages.size)
        if hi < pages.size:  # move the cut to the end of the page it falls in
            hi = int(np.searchsorted(pages, pages[hi - 1], side="right"))
        yield lo, hi
        lo = hi


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

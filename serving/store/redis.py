"""The production online store: Redis (redis-py with the hiredis reply parser).

Publishing builds the RESP bytes of one ``HSET`` per bucket in polars (Rust) rather than through
redis-py's per-argument packing, which would cost more than Redis itself; chunks are sent while
the next ones are encoded. Decisions send one hand-packed pipeline (pointer, record, counters,
novelty) and read its replies: one round trip, no MULTI, so it also works shard by shard on a
Redis Cluster (each INCR is atomic on its own; the window index in a counter's key makes a lost
EXPIRE harmless).
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterator
from datetime import UTC, datetime

import numpy as np
import polars as pl
import pyarrow as pa
import redis
from tqdm import tqdm

from serving import keys
from serving.keys import Manifest, ScoreRecord
from serving.store.base import Ask, Facts

CHUNK_RECORDS = 100_000  # records per send: big enough to amortise, small enough to overlap


def _arg(value: str | bytes | int) -> bytes:
    raw = value if isinstance(value, bytes) else str(value).encode()
    return b"$%d\r\n%s\r\n" % (len(raw), raw)


def pack(*args: str | bytes | int) -> bytes:
    """One command in RESP, the way Redis reads it."""
    return b"*%d\r\n%s" % (len(args), b"".join(_arg(a) for a in args))


def _hset_commands(scores: pl.DataFrame, version: str) -> tuple[bytes, int]:
    """``HSET scores:{version}:{bucket} user record ...`` for every bucket in ``scores``, as
    one RESP byte string. Each row's two arguments are formatted by polars into one Arrow
    string column sorted by bucket; its value buffer then *is* the argument stream, and only
    the per-bucket command headers are made in Python."""
    rows = keys.encode_scores(scores).sort("bucket")
    args = rows.select(
        pl.concat_str(
            pl.lit("$"), pl.col("user_id").str.len_bytes(), pl.lit("\r\n"), "user_id",
            pl.lit("\r\n$"), pl.col("record").str.len_bytes(), pl.lit("\r\n"), "record",
            pl.lit("\r\n"),
        )
    ).to_series().to_arrow()  # fmt: skip
    if isinstance(args, pa.ChunkedArray):
        args = args.combine_chunks()
    kind = np.int64 if pa.types.is_large_string(args.type) else np.int32
    offsets = np.frombuffer(args.buffers()[1], dtype=kind)[
        args.offset : args.offset + len(args) + 1
    ]
    data = memoryview(args.buffers()[2])
    bucket = rows.get_column("bucket").to_numpy()
    starts = np.flatnonzero(np.r_[True, bucket[1:] != bucket[:-1]])
    ends = np.r_[starts[1:], bucket.size]
    parts: list[bytes | memoryview] = []
    for first, end in zip(starts.tolist(), ends.tolist(), strict=True):
        key = keys.score_key(version, int(bucket[first])).encode()
        parts.append(b"*%d\r\n$4\r\nHSET\r\n$%d\r\n%s\r\n" % (2 * (end - first) + 2, len(key), key))
        parts.append(data[offsets[first] : offsets[end]])
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

    # --- publisher side -------------------------------------------------------------------
    def write(self, version: str, scores: pl.DataFrame, *, manifest: Manifest) -> None:
        # Registered first, so a publisher dying half-way leaves a version the pruner can find.
        self._bulk.zadd(keys.VERSIONS, {version: manifest.published_at.timestamp()})
        # A sender thread keeps Redis busy while this thread encodes the next chunk (both
        # polars and socket writes release the GIL); a small queue bounds memory.
        blobs: queue.Queue[tuple[bytes, int] | None] = queue.Queue(maxsize=4)
        sender = _Sender(self._bulk, blobs)
        sender.start()
        try:
            with tqdm(total=scores.height, desc="publish", unit="rec", disable=not self.progress,
                      leave=False) as bar:  # fmt: skip
                for chunk in _chunks(scores):
                    if sender.error is not None:
                        break
                    blobs.put(_hset_commands(chunk, version))
                    bar.update(chunk.height)
        finally:
            blobs.put(None)
            sender.join()
        if sender.error is not None:
            raise sender.error
        self._bulk.hset(keys.meta_key(version), mapping=manifest.encode())

    def flip(self, version: str) -> None:
        if not self._bulk.exists(keys.meta_key(version)):
            raise ValueError(f"version {version} is not complete: refusing to point readers at it")
        self._bulk.set(keys.CURRENT, version)

    def versions(self) -> tuple[str | None, list[Manifest]]:
        current = self._bulk.get(keys.CURRENT)
        listed = self._bulk.zrange(keys.VERSIONS, 0, -1, withscores=True)
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
        version_keys = keys.version_keys(version)
        for start in range(0, len(version_keys), 512):
            self._bulk.unlink(*version_keys[start : start + 512])
        self._bulk.zrem(keys.VERSIONS, version)

    # --- request side ---------------------------------------------------------------------
    def fetch(self, ask: Ask) -> Facts:
        cached = self._manifest
        version = cached.version if cached else ""
        commands = [
            pack("GET", keys.CURRENT),
            pack("HGET", keys.score_key(version, keys.bucket(ask.user_id)), ask.user_id),
        ]
        for counter in ask.counters:
            commands += [pack("INCR", counter.key), pack("EXPIRE", counter.key, counter.window_s)]
        if ask.device is not None:
            commands.append(pack("SISMEMBER", keys.seen_key(ask.user_id, "device"), ask.device))
        if ask.country is not None:
            commands.append(pack("SISMEMBER", keys.seen_key(ask.user_id, "country"), ask.country))
        replies = self._roundtrip(b"".join(commands), len(commands))
        current, raw = replies[0], replies[1]
        if current is None:
            self._manifest, raw = None, None
        elif current.decode() != version:  # a flip since we last looked: one more trip, rarely
            self._manifest = self._load_manifest(current.decode())
            raw = self.client.hget(keys.score_key(current.decode(), keys.bucket(ask.user_id)),
                                   ask.user_id)  # fmt: skip
        counts = tuple(int(replies[2 + 2 * i]) for i in range(len(ask.counters)))
        tail = iter(replies[2 + 2 * len(ask.counters) :])
        new_device = None if ask.device is None else not next(tail)
        new_country = None if ask.country is None else not next(tail)
        return Facts(
            manifest=self._manifest,
            record=ScoreRecord.decode(raw) if raw is not None else None,
            counts=counts,
            new_device=new_device,
            new_country=new_country,
        )

    def remember(self, user_id: str, *, device: str | None, country: str | None) -> None:
        pipe = self.client.pipeline(transaction=False)
        if device is not None:
            pipe.sadd(keys.seen_key(user_id, "device"), device)
        if country is not None:
            pipe.sadd(keys.seen_key(user_id, "country"), country)
        pipe.execute()

    def close(self) -> None:
        self.client.close()
        self._bulk.close()

    def _roundtrip(self, blob: bytes, replies: int) -> list:
        pool = self.client.connection_pool
        conn = pool.get_connection()
        try:
            conn.send_packed_command([blob])
            return [conn.read_response() for _ in range(replies)]
        except BaseException:
            conn.disconnect()  # a half-read reply stream must never be reused
            raise
        finally:
            pool.release(conn)

    def _load_manifest(self, version: str) -> Manifest | None:
        meta = self.client.hgetall(keys.meta_key(version))
        return _manifest(version, None, meta) if meta else None


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


def _chunks(records: pl.DataFrame) -> Iterator[pl.DataFrame]:
    for start in range(0, records.height, CHUNK_RECORDS):
        yield records.slice(start, CHUNK_RECORDS)


def _manifest(version: str, published: float | None, meta: dict) -> Manifest:
    if meta:
        return Manifest.decode({k.decode(): v.decode() for k, v in meta.items()})
    when = datetime.fromtimestamp(published or 0, UTC)
    return Manifest(version=version, published_at=when, scored_at=when, model_version="",
                    snapshot="", records=-1)  # fmt: skip

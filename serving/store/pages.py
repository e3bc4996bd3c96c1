"""Bulk page writing for the Redis store: a version's pages as ready-made ``SET`` commands,
and the threads that send them (one per Redis node) while the next chunk is encoded."""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterator
from typing import Any

import numpy as np
import polars as pl
import pyarrow as pa
import redis

from serving import keys

CHUNK_RECORDS = 100_000  # records per send: big enough to amortise, small enough to overlap


class Pages:
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

    def commands(
        self, version: str, lo: int, hi: int, *, node_of: np.ndarray | None = None
    ) -> dict[int, tuple[bytes, int]]:
        """``SET scores:{version}:{page} <lines>`` for the pages of rows ``[lo, hi)``, per node
        (``node_of``: the node of each hash-tag group; all on node 0 without it)."""
        pages = self.pages[lo:hi]
        starts = lo + np.flatnonzero(np.r_[True, pages[1:] != pages[:-1]])
        cuts = self.offsets[np.r_[starts, hi]].tolist()
        numbers = self.pages[starts]
        nodes = [0] * len(starts) if node_of is None else node_of[numbers % keys.SLOT_GROUPS]
        parts: dict[int, list[bytes | memoryview]] = {}
        for k, (page_no, node) in enumerate(zip(numbers.tolist(), list(nodes), strict=True)):
            key = keys.page_key(version, page_no).encode()
            a, b = cuts[k], cuts[k + 1]
            parts.setdefault(int(node), []).extend(
                (
                    b"*3\r\n$3\r\nSET\r\n$%d\r\n%s\r\n$%d\r\n" % (len(key), key, b - a),
                    self.data[a:b],
                    b"\r\n",
                )
            )
        return {node: (b"".join(p), len(p) // 3) for node, p in parts.items()}


class Sender(threading.Thread):
    """Sends RESP blobs on one connection, then reads every reply (errors included)."""

    def __init__(self, client: redis.Redis, blobs: queue.Queue[tuple[bytes, int] | None]) -> None:
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


def page_aligned(pages: np.ndarray, size: int) -> Iterator[tuple[int, int]]:
    """``[lo, hi)`` row ranges of about ``size`` rows that never split a page."""
    lo = 0
    while lo < pages.size:
        hi = min(lo + size, pages.size)
        if hi < pages.size:  # move the cut to the end of the page it falls in
            hi = int(np.searchsorted(pages, pages[hi - 1], side="right"))
        yield lo, hi
        lo = hi

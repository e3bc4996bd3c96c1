"""Bulk page writing for the Redis store: a version's pages as ready-made ``SET`` commands,
and the threads that send them (one per Redis node) while the next chunk is encoded."""

from __future__ import annotations

import queue
import socket
import threading
from collections.abc import Iterator
from itertools import pairwise
from typing import Any

import hiredis
import numpy as np
import polars as pl
import pyarrow as pa
import redis

from serving import keys
from serving.store import resp

CHUNK_RECORDS = 100_000  # records per send: big enough to amortise, small enough to overlap


class Pages:
    """Every user's ``\n{user_id}|{record}`` line, formatted by polars and sorted by page: the
    Arrow value buffer of that column *is* the pages' contents back to back, so a ``SET`` per
    page is a header plus a slice of it, and no per-record Python object is ever made.
    (Formatting in the input order, then gathering the strings, is faster than sorting the
    frame first; formatting chunk by chunk to overlap with Redis was slower still.)"""

    def __init__(self, scores: pl.DataFrame, *, pages: int) -> None:
        page_no = keys.page_column(scores.get_column("user_id"), pages).to_numpy()
        # numpy sorts 16-bit keys by radix (a tenth of polars' arg_sort), which covers up to
        # two million records; stable either way, so equal input makes equal pages.
        small = page_no.astype(np.uint16) if pages <= 1 << 16 else page_no
        order = np.argsort(small, kind="stable")
        self.pages = page_no[order]
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
        self, version: str, *, lo: int, hi: int, node_of: np.ndarray | None = None
    ) -> dict[int, tuple[bytes, int]]:
        """``SET scores:{version}:{page} <lines>`` for the pages of rows ``[lo, hi)``, per node
        (``node_of``: the node of each hash-tag group; all on node 0 without it)."""
        pages = self.pages[lo:hi]
        starts = lo + np.flatnonzero(np.r_[True, pages[1:] != pages[:-1]])
        cuts = self.offsets[np.r_[starts, hi]]
        numbers = self.pages[starts]
        # Every page's RESP header in one polars pass: a Python loop per page cost more than
        # formatting the records (~30k pages a million records).
        key = keys.page_keys(version, pl.Series(numbers))
        header = pl.concat_str(
            pl.lit("*3\r\n$3\r\nSET\r\n$"),
            key.str.len_bytes().cast(pl.String),
            pl.lit("\r\n"),
            key,
            pl.lit("\r\n$"),
            pl.lit(pl.Series(np.diff(cuts))).cast(pl.String),
            pl.lit("\r\n"),
        )
        headers = pl.select(header).to_series().cast(pl.Binary).to_list()
        bodies = [self.data[a:b] for a, b in pairwise(cuts.tolist())]
        if node_of is None:
            return {0: _blob(headers, bodies)}
        nodes = node_of[numbers % keys.SLOT_GROUPS]
        out = {}
        for node in np.unique(nodes).tolist():
            mine = np.flatnonzero(nodes == node).tolist()
            out[int(node)] = _blob([headers[i] for i in mine], [bodies[i] for i in mine])
        return out


def _blob(headers: list[bytes], bodies: list[memoryview]) -> tuple[bytes, int]:
    """One ``SET`` per page, back to back, and how many replies they will get."""
    parts: list[bytes | memoryview] = [b"\r\n"] * (3 * len(headers))
    parts[0::3] = headers
    parts[1::3] = bodies
    return b"".join(parts), len(headers)


class Sender(threading.Thread):
    """Sends RESP blobs on a socket of its own, then checks every reply at once.

    Every command it sends (``AUTH``, ``SELECT``, ``SET``) answers ``+OK``, so the replies are
    read as one block of bytes and compared with the ``+OK``s expected: a million records'
    thirty thousand replies cost one comparison, not thirty thousand ``read_response`` calls.
    Anything else (an error, a ``MOVED``) is parsed and raised."""

    def __init__(self, client: redis.Redis, blobs: queue.Queue[tuple[bytes, int] | None]) -> None:
        super().__init__(name="vouch-publish", daemon=True)
        self.blobs = blobs
        self.error: BaseException | None = None
        found = client.connection_pool.connection_kwargs
        self._address = (str(found.get("host", "127.0.0.1")), int(found.get("port", 6379)))
        hello = []
        if found.get("password"):
            user = [found["username"]] if found.get("username") else []
            hello.append(resp.pack("AUTH", *user, found["password"]))
        if int(found.get("db") or 0):
            hello.append(resp.pack("SELECT", int(found["db"])))
        self._hello = hello

    def run(self) -> None:
        sock, drained = None, False
        try:
            sock = socket.create_connection(self._address, timeout=60)
            sock.sendall(b"".join(self._hello))
            sent = len(self._hello)
            while (item := self.blobs.get()) is not None:
                sock.sendall(item[0])
                sent += item[1]
            drained = True
            _check_oks(sock, sent)
        except BaseException as exc:  # handed to the publishing thread
            self.error = exc
            while not drained and self.blobs.get() is not None:  # unblock the producer
                pass
        finally:
            if sock is not None:
                sock.close()


def _check_oks(sock: socket.socket, replies: int) -> None:
    want = b"+OK\r\n" * replies
    got = bytearray(len(want))
    view, at = memoryview(got), 0
    while at < len(got):
        n = sock.recv_into(view[at:])
        if n == 0:
            break
        at += n
        if got[at - n : at].find(b"-") >= 0:  # an error reply: stop waiting for OKs
            break
    if got[:at] == want[:at] and at == len(want):
        return
    reader, chunk = hiredis.Reader(), bytes(got[:at])
    while chunk:  # read on until the error reply is whole
        reader.feed(chunk)
        while (reply := reader.gets()) is not False:
            if isinstance(reply, hiredis.ReplyError):
                raise redis.ResponseError(str(reply))
        chunk = sock.recv(65536)
    raise ConnectionError(f"Redis answered {at} of {len(want)} reply bytes, then closed")


def page_aligned(pages: np.ndarray, size: int) -> Iterator[tuple[int, int]]:
    """``[lo, hi)`` row ranges of about ``size`` rows that never split a page."""
    lo = 0
    while lo < pages.size:
        hi = min(lo + size, pages.size)
        if hi < pages.size:  # move the cut to the end of the page it falls in
            hi = int(np.searchsorted(pages, pages[hi - 1], side="right"))
        yield lo, hi
        lo = hi

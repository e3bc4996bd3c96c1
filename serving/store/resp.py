"""A minimal Redis connection for the decision path: hand-packed RESP, the hiredis reader.

redis-py spends more time per pipeline (pool checkout, per-command packing, one
``read_response`` call per reply) than the server and the network together for the handful
of tiny commands a decision sends. This keeps one socket per thread, sends the commands in one
``sendall`` and parses every reply with one ``hiredis.Reader``. Errors close the socket and
propagate: the caller (the decision layer) owns retries and fallbacks.
"""

from __future__ import annotations

import socket
import threading
from typing import Any
from urllib.parse import unquote, urlparse

import hiredis


def pack(*args: str | bytes | int) -> bytes:
    """One command in RESP, the way Redis reads it."""
    out = [b"*%d\r\n" % len(args)]
    for a in args:
        raw = a if isinstance(a, bytes) else str(a).encode()
        out.append(b"$%d\r\n%s\r\n" % (len(raw), raw))
    return b"".join(out)


# The decision path's commands, one ``%`` each: a generic ``pack`` costs more than the server.
def get(key: str) -> bytes:
    k = key.encode()
    return b"*2\r\n$3\r\nGET\r\n$%d\r\n%b\r\n" % (len(k), k)


def incr_expire(key: str, seconds: int) -> bytes:
    k, s = key.encode(), b"%d" % seconds
    return b"*2\r\n$4\r\nINCR\r\n$%d\r\n%b\r\n*3\r\n$6\r\nEXPIRE\r\n$%d\r\n%b\r\n$%d\r\n%b\r\n" % (
        len(k),
        k,
        len(k),
        k,
        len(s),
        s,
    )


def sismember(key: str, member: str) -> bytes:
    k, m = key.encode(), member.encode()
    return b"*3\r\n$9\r\nSISMEMBER\r\n$%d\r\n%b\r\n$%d\r\n%b\r\n" % (len(k), k, len(m), m)


class Wire:
    """Thread-local sockets to the server of a ``redis://`` URL (and, for a cluster, to any
    other node a round trip names)."""

    def __init__(self, url: str, *, timeout_s: float) -> None:
        where = urlparse(url)
        self.address = (where.hostname or "127.0.0.1", where.port or 6379)
        self.timeout_s = timeout_s
        hello = []
        if where.password:
            user = unquote(where.username) if where.username else None
            hello.append(pack("AUTH", *([user] if user else []), unquote(where.password)))
        db = (where.path or "/0").strip("/") or "0"
        if db != "0":
            hello.append(pack("SELECT", db))
        self._hello = hello
        self._local = threading.local()

    def roundtrip(
        self, commands: bytes, replies: int, *, address: tuple[str, int] | None = None
    ) -> list[Any]:
        return self.roundtrips([(address or self.address, commands, replies)])[0]

    def roundtrips(self, batches: list[tuple[tuple[str, int], bytes, int]]) -> list[list[Any]]:
        """Send every batch (each to its node) before reading any reply: one round trip's
        latency whatever the number of nodes."""
        try:
            opened = [(self._socket(address), commands, n) for address, commands, n in batches]
            for (sock, _), commands, _ in opened:
                sock.sendall(commands)
            return [self._read(sock, reader, n) for (sock, reader), _, n in opened]
        except BaseException:
            self.close()  # a half-read reply stream must never be reused
            raise

    def close(self) -> None:
        for sock, _ in getattr(self._local, "socks", {}).values():
            sock.close()
        self._local.socks = {}

    @staticmethod
    def _read(sock: socket.socket, reader: hiredis.Reader, replies: int) -> list[Any]:
        out: list[Any] = []
        while len(out) < replies:
            reply = reader.gets()
            if reply is False:
                chunk = sock.recv(65536)
                if not chunk:
                    raise ConnectionError("Redis closed the connection")
                reader.feed(chunk)
                continue
            if isinstance(reply, hiredis.ReplyError):
                raise reply
            out.append(reply)
        return out

    def _socket(self, address: tuple[str, int]) -> tuple[socket.socket, hiredis.Reader]:
        socks = getattr(self._local, "socks", None)
        if socks is None:
            socks = self._local.socks = {}
        found = socks.get(address)
        if found is None:
            sock = socket.create_connection(address, timeout=self.timeout_s)
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            found = socks[address] = (sock, hiredis.Reader())
            if self._hello:
                sock.sendall(b"".join(self._hello))
                self._read(sock, found[1], len(self._hello))
        return found

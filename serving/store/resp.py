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
    """Thread-local sockets to the server of a ``redis://`` URL."""

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

    def roundtrip(self, commands: bytes, replies: int) -> list[Any]:
        sock, reader = self._socket()
        try:
            sock.sendall(commands)
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
        except BaseException:
            self.close()  # a half-read reply stream must never be reused
            raise

    def close(self) -> None:
        sock = getattr(self._local, "sock", None)
        if sock is not None:
            sock.close()
            self._local.sock = None

    def _socket(self) -> tuple[socket.socket, hiredis.Reader]:
        sock = getattr(self._local, "sock", None)
        if sock is None:
            sock = socket.create_connection(self.address, timeout=self.timeout_s)
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            self._local.sock, self._local.reader = sock, hiredis.Reader()
            if self._hello:
                self.roundtrip(b"".join(self._hello), len(self._hello))
        return sock, self._local.reader

"""Servers a drill owns and may kill: redis-server and nats-server on spare ports, a tmpfs.

Each runs in a temporary directory of its own, on a port the kernel handed out, and is stopped by
the fixture that started it whatever the test's outcome. Nothing here touches the shared servers.
"""

from __future__ import annotations

import contextlib
import shutil
import signal
import socket
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from tests.conftest import require_server


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until(ready: Callable[[], object], *, timeout_s: float, what: str) -> float:
    """Poll ``ready()`` until true; returns the seconds it took, raises after ``timeout_s``."""
    started = time.monotonic()
    while True:
        if ready():
            return time.monotonic() - started
        if time.monotonic() - started > timeout_s:
            raise TimeoutError(f"{what} not ready after {timeout_s}s")
        time.sleep(0.02)


def _accepts(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
        return True
    except OSError:
        return False


class _Process:
    """One server process; ``start`` again after ``kill``/``stop`` reuses port and directory."""

    binary = ""

    def __init__(self, workdir: Path) -> None:
        found = shutil.which(self.binary)
        require_server(self.binary, found is not None, f"no {self.binary} on PATH")
        self.exe = str(found)
        self.workdir = workdir
        workdir.mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        self.proc: subprocess.Popen[bytes] | None = None
        self.starts = 0

    def argv(self) -> list[str]:
        raise NotImplementedError

    def ready(self) -> bool:
        return _accepts(self.port)

    def start(self, *, timeout_s: float = 10.0) -> float:
        """Start and wait until it serves; returns the seconds that took."""
        self.starts += 1
        log = (self.workdir / f"server-{self.starts}.log").open("wb")
        self.proc = subprocess.Popen(self.argv(), stdout=log, stderr=subprocess.STDOUT)
        log.close()
        return wait_until(self.ready, timeout_s=timeout_s, what=f"{self.binary}:{self.port}")

    def kill(self) -> None:
        """SIGKILL: no shutdown, no flush."""
        self._signal(signal.SIGKILL)

    def stop(self) -> None:
        """SIGTERM: the server's own orderly shutdown."""
        self._signal(signal.SIGTERM)

    def pause(self) -> None:
        """SIGSTOP: the process hangs with its sockets open (a stalled server, not a dead one)."""
        assert self.proc is not None
        self.proc.send_signal(signal.SIGSTOP)

    def resume(self) -> None:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGCONT)

    def _signal(self, sig: signal.Signals) -> None:
        if self.proc is None:
            return
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=10)
        self.proc = None

    def close(self) -> None:
        with contextlib.suppress(ProcessLookupError):
            if self.proc is not None:
                self.proc.send_signal(signal.SIGCONT)  # a drill may have paused it
            self.kill()


class RedisServer(_Process):
    """redis-server; ``durable``: with an append-only file synced on every write, as production
    runs it, so what it acknowledged survives a SIGKILL and is back after a restart."""

    binary = "redis-server"

    def __init__(self, workdir: Path, *, durable: bool = True) -> None:
        super().__init__(workdir)
        self.durable = durable

    def argv(self) -> list[str]:
        persist = ["--appendonly", "yes", "--appendfsync", "always"] if self.durable else []
        where = ["--port", str(self.port), "--bind", "127.0.0.1", "--dir", str(self.workdir)]
        return [self.exe, *where, "--save", "", *persist]

    def ready(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.2) as s:
                s.sendall(b"PING\r\n")
                return s.recv(16).startswith(b"+PONG")  # not "-LOADING" while the AOF replays
        except OSError:
            return False

    def url(self, db: int = 0) -> str:
        return f"redis://127.0.0.1:{self.port}/{db}"


class NatsServer(_Process):
    """nats-server with JetStream, its file store in the drill's directory."""

    binary = "nats-server"

    def argv(self) -> list[str]:
        store = self.workdir / "jetstream"
        return [self.exe, "-js", "-sd", str(store), "-a", "127.0.0.1", "-p", str(self.port)]

    def url(self) -> str:
        return f"nats://127.0.0.1:{self.port}"


@dataclass(frozen=True)
class Tmpfs:
    path: Path

    def resize(self, size: str) -> None:
        """Space returns (or goes): the mount keeps its files."""
        subprocess.run(["mount", "-o", f"remount,size={size}", str(self.path)], check=True)


@contextlib.contextmanager
def tmpfs(where: Path, *, size: str) -> Iterator[Tmpfs]:
    """A small tmpfs mounted at ``where`` for the block; skipped (failed under CI) if the
    mount is not permitted here."""
    where.mkdir(parents=True, exist_ok=True)
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(where)],
        capture_output=True,
        text=True,
        check=False,
    )
    require_server("a tmpfs mount", done.returncode == 0, done.stderr.strip() or "mount failed")
    try:
        yield Tmpfs(where)
    finally:
        if subprocess.run(["umount", str(where)], check=False).returncode:
            subprocess.run(["umount", "-l", str(where)], check=False)  # busy: detach lazily


class TcpProxy:
    """A TCP relay to ``target`` on a spare port of its own: ``cut()`` closes the port and
    every connection through it (the server is unreachable, as after a network partition or a
    crash), ``start()`` opens the same port again."""

    def __init__(self, target: tuple[str, int]) -> None:
        self.target = target
        self.port = free_port()
        self._listener: socket.socket | None = None
        self._open: set[socket.socket] = set()
        self._lock = threading.Lock()

    def start(self) -> None:
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(64)
        self._listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()

    def cut(self) -> None:
        listener, self._listener = self._listener, None
        if listener is not None:
            with contextlib.suppress(OSError):
                listener.shutdown(socket.SHUT_RDWR)
            listener.close()
        with self._lock:
            doomed, self._open = self._open, set()
        for s in doomed:
            with contextlib.suppress(OSError):
                s.shutdown(socket.SHUT_RDWR)
            s.close()

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return  # cut
            try:
                upstream = socket.create_connection(self.target, timeout=5)
            except OSError:
                client.close()
                continue
            upstream.settimeout(None)
            with self._lock:
                self._open.update((client, upstream))
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(a, b), daemon=True).start()

    def _pump(self, src: socket.socket, dst: socket.socket) -> None:
        try:
            while chunk := src.recv(65536):
                dst.sendall(chunk)
        except OSError:
            pass
        finally:  # one side ended: end the other, and forget both
            for s in (src, dst):
                with contextlib.suppress(OSError):
                    s.shutdown(socket.SHUT_RDWR)
                s.close()
            with self._lock:
                self._open.difference_update((src, dst))

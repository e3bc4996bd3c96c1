"""What the API benches share: a `vouch api` process, a raised-limits rules file, seeded users
with published scores, and a small keep-alive HTTP client (stdlib ``http.client``).

The benches drive a few users far harder than the product's rate limits allow a person to
(transfer 30/h per user, register 10/h per IP, login 30/5 min per IP): they run the server
with their own rules file, the packaged ``serving/policy/rules.toml`` with every ``limit``
multiplied (``bench_rules``), and a version string ending in ``+bench`` so every decision
logged says which rules it was made under. Everything else in the rules (thresholds, MFA,
novelty, the unscored policy) is the product's. The product's own file is never touched.
"""

from __future__ import annotations

import http.client
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import polars as pl

from serving.publish import publish
from serving.rules import DEFAULT_RULES
from serving.store import open_store
from settings import Settings

PASSWORD = "bench correct horse battery"
LIMIT_FACTOR = 100_000


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def bench_rules(path: Path, *, factor: int = LIMIT_FACTOR) -> Path:
    """The packaged rules with every rate ``limit`` multiplied by ``factor`` (see above)."""
    text = DEFAULT_RULES.read_text()
    text, versions = re.subn(r'^version = "([^"]+)"', r'version = "\1+bench"', text, flags=re.M)
    text, limits = re.subn(r"limit = (\d+)", lambda m: f"limit = {int(m[1]) * factor}", text)
    assert versions == 1 and limits > 0, "rules.toml layout changed: update bench_rules"
    path.write_text(text)
    return path


class Conn:
    """One keep-alive HTTP/1.1 connection; ``call`` returns (status, body bytes)."""

    def __init__(self, port: int, *, timeout_s: float = 30) -> None:
        self.port, self.timeout_s = port, timeout_s
        self._conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout_s)

    def call(
        self,
        method: str,
        path: str,
        *,
        body: Any = None,
        headers: Mapping[str, str] | None = None,
    ) -> tuple[int, bytes]:
        data = None if body is None else json.dumps(body).encode()
        sent = dict(headers or {})
        if data is not None:
            sent["Content-Type"] = "application/json"
        try:
            self._conn.request(method, path, body=data, headers=sent)
            response = self._conn.getresponse()
            return response.status, response.read()
        except (http.client.HTTPException, OSError):
            self._conn.close()  # the next call reconnects
            raise

    def json(self, method: str, path: str, **kwargs: Any) -> Any:
        status, data = self.call(method, path, **kwargs)
        if status >= 300:
            raise RuntimeError(f"{method} {path} -> {status}: {data[:300]!r}")
        return json.loads(data) if data else None

    def close(self) -> None:
        self._conn.close()


@dataclass
class Server:
    """A server process this bench started (its own process group, stopped with SIGINT)."""

    process: subprocess.Popen[bytes]
    port: int
    log: Path

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGINT)  # uvicorn's graceful shutdown
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()


def start(argv: list[str], *, port: int, env: Mapping[str, str], cwd: Path, log: Path) -> Server:
    """Start ``argv`` (a server listening on ``port``) and wait until it answers HTTP."""
    out = log.open("wb")
    process = subprocess.Popen(
        argv,
        env={**os.environ, **env},
        cwd=cwd,
        stdout=out,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    server = Server(process, port, log)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{argv[0]} exited {process.returncode}: {log.read_text()[-2000:]}")
        try:
            conn = Conn(port, timeout_s=5)
            conn.call("GET", "/identity/me")
            conn.close()
            return server
        except OSError:
            time.sleep(0.1)
    server.stop()
    raise RuntimeError(f"{argv[0]} did not answer within 120 s")


def vouch_api(
    settings_env: Mapping[str, str],
    *,
    data_dir: Path,
    port: int,
    workers: int = 1,
    relay_every_s: float = 2.0,
) -> Server:
    """`vouch api` as the product runs it (uvicorn, the outbox relay on), data under data_dir."""
    vouch = Path(sys.executable).with_name("vouch")
    argv = [str(vouch), "api", "--port", str(port), "--relay-every-s", str(relay_every_s)]
    if workers > 1:
        argv += ["--workers", str(workers)]
    env = {"VOUCH_DATA_DIR": str(data_dir), "VOUCH_NATS_URL": "", **settings_env}
    return start(argv, port=port, env=env, cwd=data_dir, log=data_dir / "api.log")


@dataclass
class User:
    email: str
    device: str
    id: str = ""
    token: str = ""
    refresh: str = ""
    headers: dict[str, str] = field(default_factory=dict)

    def authorise(self, tokens: Mapping[str, Any]) -> None:
        self.token, self.refresh = tokens["access_token"], tokens["refresh_token"]
        self.headers = {
            "Authorization": f"Bearer {self.token}",
            "X-Device-Fingerprint": self.device,
        }


def sign_up(conn: Conn, user: User) -> User:
    """Register, log in and learn the id (two argon2 hashes: ~0.1 s of server CPU)."""
    body = {"email": user.email, "password": PASSWORD, "display_name": user.email[:20]}
    conn.json("POST", "/identity/register", body=body)
    user.authorise(
        conn.json(
            "POST",
            "/identity/login",
            body={"email": user.email, "password": PASSWORD},
            headers={"X-Device-Fingerprint": user.device},
        )
    )
    user.id = conn.json("GET", "/identity/me", headers=user.headers)["id"]
    return user


def refresh(conn: Conn, user: User) -> None:
    """A new access token (they live 15 minutes; a load run lasts longer)."""
    user.authorise(conn.json("POST", "/identity/refresh", body={"refresh_token": user.refresh}))


def deposit(conn: Conn, user: User, amount: str, *, currency: str = "EUR") -> None:
    body = {"amount": amount, "currency": currency, "payment_method_id": "pm_card_visa"}
    conn.json(
        "POST",
        "/payments/deposits",
        body=body,
        headers={**user.headers, "Idempotency-Key": uuid.uuid4().hex},
    )


def new_users(n: int, *, tag: str) -> list[User]:
    return [User(email=f"{tag}-{i}@bench.example.com", device=f"{tag}-dev-{i}") for i in range(n)]


def publish_scores(settings: Settings, users: Iterable[User]) -> str:
    """Publish low-risk, well-trusted scores for ``users`` to the online store the server reads,
    and remember each user's device, so critical actions are decided on a real record and
    answer ``allow`` (as for an established user on a known phone)."""
    users = list(users)
    n = len(users)
    scores = pl.DataFrame(
        {
            "user_id": [u.id for u in users],
            "trust": [0.9] * n,
            "fraud_risk": [0.01] * n,
            "band": ["low"] * n,
            "confirmed_fraud": [False] * n,
            "reasons": pl.Series([["bench"]] * n, dtype=pl.List(pl.String)),
            "model_version": "vouch-fraud/bench",
            "scored_at": pl.Series([datetime.now(UTC)] * n, dtype=pl.Datetime("us", "UTC")),
        }
    )
    store = open_store(settings, timeout_s=5)
    try:
        published = publish(store, scores, snapshot="bench")
        for user in users:
            store.remember(user.id, device=user.device, country=None)
    finally:
        store.close()
    return published.version


def percentiles(ms: list[float]) -> dict[str, float]:
    values = sorted(ms)

    def at(q: float) -> float:
        return round(values[min(len(values) - 1, int(q * len(values)))], 2) if values else 0.0

    return {"n": len(values), "p50_ms": at(0.50), "p99_ms": at(0.99), "max_ms": at(1.0)}


def tree_cpu_s(pid: int) -> float:
    """CPU seconds (user + system) used so far by a process and its children (the workers)."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue  # gone meanwhile
        this, parent = int(stat.parent.name), int(fields[1])
        if pid in (this, parent):
            total += (int(fields[11]) + int(fields[12])) / tick
    return total


def machine_busy() -> tuple[float, float]:
    """(busy, total) jiffies of all cores since boot: the difference of two readings gives the
    share of the machine in use, ours and everyone else's (other sessions run tests here)."""
    values = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = values[3] + values[4]  # idle + iowait
    return float(sum(values) - idle), float(sum(values))

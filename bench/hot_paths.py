"""Sequential latency of the API's hot paths over real HTTP, against a bare FastAPI peer.

    python -m bench.hot_paths [--requests 2000] [--warmup 200]

Starts `vouch api` (uvicorn on loopback, one process, the outbox relay on, SQLite database and
online store in a tmp data dir) and the peer (``bench.peer_app``: a bare FastAPI route answering
a constant, same uvicorn settings). Seeds four users, tops their wallets up and publishes
low-risk scores for them (and remembers their devices), so a transfer's access decision reads a
real record, increments two rate counters, checks device novelty and answers ``allow``.
Then, one request at a time over one keep-alive connection per server, rounds of:
``GET /peer``, ``GET /peer/sync``, ``GET /identity/me`` and ``POST /payments/transfers``
(1.00 EUR between the two users of a pair, alternating direction, a fresh Idempotency-Key
each), each timed on the client from send to the last byte read.

Rate limits: the server runs with ``bench.apiserver.bench_rules`` (the packaged rules with every
limit raised), since one user sends thousands of transfers here. Goals (issue 12, SQLite,
sequential): ``/identity/me`` p99 <= 5 ms, transfer p99 <= 15 ms.
"""

from __future__ import annotations

import argparse
import json
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

from bench.apiserver import (
    Conn,
    Server,
    bench_rules,
    deposit,
    free_port,
    machine_busy,
    new_users,
    percentiles,
    publish_scores,
    sign_up,
    start,
    vouch_api,
)
from settings import Settings

ROOT = Path(__file__).resolve().parent.parent
GOALS_MS = {"me": 5.0, "transfer": 15.0}


def _timed(conn: Conn, method: str, path: str, **kwargs: Any) -> tuple[int, float]:
    started = time.perf_counter_ns()
    status, _ = conn.call(method, path, **kwargs)
    return status, (time.perf_counter_ns() - started) / 1e6


def _profiler(pid: int, out: Path) -> subprocess.Popen[bytes]:
    """py-spy (not a project dependency: ``pip install py-spy``) sampling the server."""
    spy = shutil.which("py-spy") or str(Path(sys.executable).with_name("py-spy"))
    argv = [
        spy,
        "record",
        "--pid",
        str(pid),
        "--rate",
        "500",
        "--format",
        "raw",
        "--output",
        str(out),
        "--nonblocking",
    ]
    return subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def run(*, requests: int, warmup: int, tmp: Path, profile: Path | None = None) -> dict[str, object]:
    data = tmp / "data"
    data.mkdir()
    rules = bench_rules(tmp / "rules.toml")
    env = {"VOUCH_RULES_PATH": str(rules), "VOUCH_DATABASE_URL": "", "VOUCH_REDIS_URL": ""}
    servers: list[Server] = []
    try:
        api = vouch_api(env, data_dir=data, port=free_port())
        servers.append(api)
        peer_port = free_port()
        servers.append(
            start(
                [sys.executable, "-m", "bench.peer_app", "--port", str(peer_port)],
                port=peer_port,
                env={"PYTHONPATH": str(ROOT)},
                cwd=tmp,
                log=tmp / "peer.log",
            )
        )
        ours, peer = Conn(api.port), Conn(peer_port)
        users = [sign_up(ours, u) for u in new_users(4, tag=f"hot-{uuid.uuid4().hex[:6]}")]
        for user in users:
            deposit(ours, user, "100000")
        publish_scores(Settings(data_dir=data, database_url=None, redis_url=None), users)
        pairs = [(users[0], users[1]), (users[2], users[3])]
        samples: dict[str, list[float]] = {"peer": [], "peer_sync": [], "me": [], "transfer": []}
        unexpected: dict[str, int] = {}
        spy = None
        busy0 = machine_busy()
        for i in range(warmup + requests):
            if i == warmup and profile:
                spy = _profiler(api.process.pid, profile)
                time.sleep(1)  # attached before the timed rounds
            a, b = pairs[i % 2]
            sender, recipient = (a, b) if (i // 2) % 2 == 0 else (b, a)
            body = {"to_user_id": recipient.id, "amount": "1.00", "currency": "EUR"}
            keyed = {**sender.headers, "Idempotency-Key": uuid.uuid4().hex}
            for name, conn, method, path, kwargs, want in (
                ("peer", peer, "GET", "/peer", {}, 200),
                ("peer_sync", peer, "GET", "/peer/sync", {}, 200),
                ("me", ours, "GET", "/identity/me", {"headers": sender.headers}, 200),
                (
                    "transfer",
                    ours,
                    "POST",
                    "/payments/transfers",
                    {"body": body, "headers": keyed},
                    201,
                ),
            ):
                status, ms = _timed(conn, method, path, **kwargs)
                if status != want:
                    unexpected[f"{name}:{status}"] = unexpected.get(f"{name}:{status}", 0) + 1
                if i >= warmup:
                    samples[name].append(ms)
        busy1 = machine_busy()
        ours.close()
        peer.close()
        if spy:
            spy.send_signal(signal.SIGINT)
            spy.wait(timeout=60)
    finally:
        for server in servers:
            server.stop()
    result: dict[str, Any] = {"requests": requests, "storage": "sqlite", "workers": 1}
    result |= {name: percentiles(ms) for name, ms in samples.items()}
    peer99 = result["peer"]["p99_ms"]
    for name, goal in GOALS_MS.items():
        p99 = result[name]["p99_ms"]
        result[f"{name}_p99_vs_peer"] = round(p99 / peer99, 1) if peer99 else None
        result[f"{name}_goal_met"] = p99 <= goal
    result["unexpected_statuses"] = unexpected
    # Other sessions run tests on this machine: a busy share well above ours (~1 core of 2 for
    # the server and this client) means the tail figures include their work.
    result["machine_busy"] = round((busy1[0] - busy0[0]) / (busy1[1] - busy0[1]), 2)
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.hot_paths",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--requests", type=int, default=2000, help="timed rounds")
    parser.add_argument("--warmup", type=int, default=200, help="untimed rounds first")
    parser.add_argument(
        "--profile",
        type=Path,
        metavar="FILE",
        help="sample the API with py-spy during the timed rounds (collapsed "
        "stacks to FILE; needs py-spy installed)",
    )
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="vouch-hot-") as tmp:
        result = run(
            requests=args.requests,
            warmup=args.warmup,
            tmp=Path(tmp),
            profile=args.profile and args.profile.resolve(),
        )
    print(f"{'route':<12} {'p50 ms':>8} {'p99 ms':>8} {'max ms':>8}")
    for name in ("peer", "peer_sync", "me", "transfer"):
        row = result[name]
        print(f"{name:<12} {row['p50_ms']:>8} {row['p99_ms']:>8} {row['max_ms']:>8}")
    print(
        f"GET /identity/me p99 {result['me']['p99_ms']} ms = {result['me_p99_vs_peer']} x the "
        f"peer (goal <= {GOALS_MS['me']} ms); transfer p99 {result['transfer']['p99_ms']} ms = "
        f"{result['transfer_p99_vs_peer']} x (goal <= {GOALS_MS['transfer']} ms); "
        f"unexpected statuses: {result['unexpected_statuses'] or 'none'}; machine busy "
        f"{100 * result['machine_busy']:.0f}% (this bench alone: about 50%)"
    )
    print(json.dumps(result))
    return 0 if not result["unexpected_statuses"] else 1


if __name__ == "__main__":
    sys.exit(main())

"""Open-loop load on `vouch api --workers N` over PostgreSQL and Redis, at rising rates.

    python -m bench.load [--rates 50,100,150,200,250,300] [--seconds 60] [--workers 2]
                         [--users 100] [--pg DSN] [--redis URL]

Set-up: a schema of its own in the PostgreSQL database (dropped at the end), Redis database
``/9`` for the online store and feed (flushed before and after: only that database), a tmp data
dir for the landing and the signing key. `vouch api` runs with ``--workers``, the outbox relay on,
the access log on (as the product runs). ``--users`` users register and log in, get a wallet
topped up, a quarter of them list an item; then low-risk scores are published to Redis for all
of them and their devices remembered, so every critical action is decided on a real record
(record read, per-user and per-IP counters, device novelty) and answers ``allow``.

The mix (weights): GET /identity/me 25, GET /social/feed 15, GET /payments/wallets 10,
GET /marketplace/listings 10; POST /social/posts 10 (fans out to followers' timelines), PUT
/social/follows/{id} 10, POST /marketplace/orders 8, POST /payments/transfers 12 (both with an
access decision; transfers with an Idempotency-Key).

Arrivals are open-loop: a Poisson process at the stage's rate schedules each request at its
own time, whether or not earlier ones have answered, and a request's latency runs from its
scheduled time, so a server that falls behind shows it (no coordinated omission). Each stage
runs ``--seconds``; a stage holds when it has no 5xx, no transport error and overall p99 <=
100 ms. The ramp stops after the first stage that does not hold (``--keep-going``: it does not).

The generator (asyncio on uvloop, aiohttp, one process) shares this machine's cores with the
server, PostgreSQL and Redis: its own CPU time is printed per stage. Rate limits: the server
runs with ``bench.apiserver.bench_rules`` (the packaged rules with every limit raised), since
100 users here act far more often than the product lets a person.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import re
import resource
import sys
import tempfile
import time
import uuid
from collections import Counter, defaultdict
from contextlib import suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import psycopg
import redis
import uvloop

from bench.apiserver import (
    Conn,
    User,
    bench_rules,
    free_port,
    machine_busy,
    percentiles,
    publish_scores,
    refresh,
    tree_cpu_s,
    vouch_api,
)
from bench.load_mix import MIX, WANT, World, list_items, request_for, seed
from settings import Settings

PG_DSN = "postgresql://postgres@127.0.0.1:5432/test"
REDIS_URL = "redis://127.0.0.1:6379/9"
P99_GOAL_MS = 100.0
TOKEN_REFRESH_S = 600  # access tokens live 15 minutes


@dataclass
class Stage:
    rate: float
    seconds: float
    latencies: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    statuses: Counter[str] = field(default_factory=Counter)
    errors: Counter[str] = field(default_factory=Counter)
    late_ms: list[float] = field(default_factory=list)  # generator lag at send time

    def summary(
        self, *, cpu_s: float, wall_s: float, server_cpu_s: float, busy: float
    ) -> dict[str, Any]:
        every = [ms for values in self.latencies.values() for ms in values]
        five = sum(n for key, n in self.statuses.items() if key.rsplit(":", 1)[1][0] == "5")
        unexpected = {k: n for k, n in self.statuses.items() if not _expected(k)}
        overall = percentiles(every)
        held = five == 0 and not self.errors and overall["p99_ms"] <= P99_GOAL_MS
        return {
            "rate": self.rate,
            "seconds": self.seconds,
            "sent": len(every) + sum(self.errors.values()),
            "achieved_rps": round(len(every) / wall_s, 1),
            "overall": overall,
            "http_5xx": five,
            "transport_errors": dict(self.errors),
            "unexpected_statuses": unexpected,
            "held": held,
            "routes": {route: percentiles(ms) for route, ms in sorted(self.latencies.items())},
            "generator_cpu_s": round(cpu_s, 1),
            "server_cpu_s": round(server_cpu_s, 1),
            "server_cpu_ms_per_request": round(1000 * server_cpu_s / max(1, len(every)), 2),
            "machine_busy": round(busy, 2),
            "generator_lag_p99_ms": percentiles(self.late_ms)["p99_ms"],
        }


def _expected(key: str) -> bool:
    route, status = key.rsplit(":", 1)
    return int(status) in WANT.get(route, (200,))


async def _one(
    session: aiohttp.ClientSession,
    base: str,
    route: str,
    request: tuple[str, str, Any, User],
    *,
    due: float,
    stage: Stage,
) -> None:
    method, path, body, user = request
    headers = dict(user.headers)
    if route == "POST /payments/transfers":
        headers["Idempotency-Key"] = uuid.uuid4().hex
    stage.late_ms.append((time.perf_counter() - due) * 1000)
    try:
        async with session.request(method, base + path, json=body, headers=headers) as response:
            await response.read()
            status = response.status
    except (aiohttp.ClientError, TimeoutError) as exc:
        stage.errors[type(exc).__name__] += 1
        return
    stage.latencies[route].append((time.perf_counter() - due) * 1000)
    stage.statuses[f"{route}:{status}"] += 1


async def run_stage(base: str, world: World, *, rate: float, seconds: float, seed: int) -> Stage:
    rng = random.Random(seed)
    routes, weights = list(MIX), list(MIX.values())
    stage = Stage(rate=rate, seconds=seconds)
    # Idle connections are dropped before uvicorn's 5 s keep-alive timeout would close them
    # under a request in flight (a client-side race, not a server failure).
    connector = aiohttp.TCPConnector(limit=512, keepalive_timeout=2)
    timeout = aiohttp.ClientTimeout(total=30)
    tasks: set[asyncio.Task[None]] = set()
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:
        start = time.perf_counter()
        due = start
        while True:
            due += rng.expovariate(rate)
            if due - start >= seconds:
                break
            route = rng.choices(routes, weights)[0]
            request = request_for(route, world, rng)
            delay = due - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            task = asyncio.create_task(_one(session, base, route, request, due=due, stage=stage))
            tasks.add(task)
            task.add_done_callback(tasks.discard)
        if tasks:
            await asyncio.wait(tasks, timeout=60)
    return stage


# --- the run --------------------------------------------------------------------------------
def run(args: argparse.Namespace, tmp: Path) -> dict[str, Any]:
    schema = f"vouch_bench_{uuid.uuid4().hex[:10]}"
    admin = psycopg.connect(args.pg, autocommit=True, connect_timeout=5)
    store = redis.Redis.from_url(args.redis)
    data = tmp / "data"
    data.mkdir()
    url = f"{args.pg}?options=-csearch_path%3D{schema}"
    env = {
        "VOUCH_DATABASE_URL": url,
        "VOUCH_REDIS_URL": args.redis,
        "VOUCH_RULES_PATH": str(bench_rules(tmp / "rules.toml")),
    }
    server = None
    stages: list[dict[str, Any]] = []
    try:
        admin.execute(f'CREATE SCHEMA "{schema}"')
        store.flushdb()
        server = vouch_api(env, data_dir=data, port=free_port(), workers=args.workers)
        started = time.monotonic()
        world = seed(server.port, users=args.users, threads=2 * args.workers)
        settings = Settings(data_dir=data, database_url=url, redis_url=args.redis)
        publish_scores(settings, world.users)
        list_items(server.port, world)
        print(
            f"seeded {len(world.users)} users, {len(world.listings)} listings in "
            f"{time.monotonic() - started:.0f} s",
            flush=True,
        )
        base = f"http://127.0.0.1:{server.port}"
        tokens_at = time.monotonic()
        for i, rate in enumerate(args.rates):
            if time.monotonic() - tokens_at > TOKEN_REFRESH_S:
                conn = Conn(server.port)
                for user in world.users:
                    refresh(conn, user)
                conn.close()
                tokens_at = time.monotonic()
            cpu0, wall0 = _cpu_s(), time.perf_counter()
            server0, machine0 = tree_cpu_s(server.process.pid), machine_busy()
            stage = uvloop.run(
                run_stage(base, world, rate=rate, seconds=args.seconds, seed=args.seed + i)
            )
            machine1 = machine_busy()
            summary = stage.summary(
                cpu_s=_cpu_s() - cpu0,
                wall_s=args.seconds,
                server_cpu_s=tree_cpu_s(server.process.pid) - server0,
                busy=(machine1[0] - machine0[0]) / (machine1[1] - machine0[1]),
            )
            stages.append(summary | {"wall_s": round(time.perf_counter() - wall0, 1)})
            _print_stage(stages[-1])
            if not summary["held"] and not args.keep_going:
                break
            time.sleep(2)  # let the relay and the pools settle between stages
    finally:
        if server:
            server.stop()
            if any(s["http_5xx"] or s["transport_errors"] for s in stages):
                # The server's own account of what went wrong (the data dir goes with tmp).
                kinds = Counter(
                    line.strip()[:160]
                    for line in server.log.read_text().splitlines()
                    if re.match(r"^[\w.]+(Error|Exception|Timeout)\b", line)
                )
                print("server log, exceptions:", json.dumps(kinds.most_common(10), indent=1))
        with suppress(Exception):
            store.flushdb()
        store.close()
        admin.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
        admin.close()
    held = [s["rate"] for s in stages if s["held"]]
    best = max((s for s in stages if s["held"]), key=lambda s: s["rate"], default=None)
    return {
        "workers": args.workers,
        "users": args.users,
        "seconds": args.seconds,
        "database": "postgresql",
        "online_store": "redis",
        "cores": _cores(),
        "generator": "same machine: asyncio+uvloop+aiohttp, 1 process",
        "highest_rate_held": max(held, default=None),
        "held_routes": best["routes"] if best else None,
        "stages": stages,
    }


def _cpu_s() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _cores() -> int:
    return len(os.sched_getaffinity(0))


def _print_stage(s: dict[str, Any]) -> None:
    o = s["overall"]
    print(
        f"\nrate {s['rate']:g}/s for {s['seconds']:g} s: achieved {s['achieved_rps']}/s, p50 "
        f"{o['p50_ms']} ms, p99 {o['p99_ms']} ms, 5xx {s['http_5xx']}, transport errors "
        f"{s['transport_errors'] or 0}, unexpected {s['unexpected_statuses'] or '-'}, "
        f"server CPU {s['server_cpu_ms_per_request']} ms/request, machine busy "
        f"{100 * s['machine_busy']:.0f}%, generator CPU {s['generator_cpu_s']} s, lag p99 "
        f"{s['generator_lag_p99_ms']} ms: {'HELD' if s['held'] else 'NOT HELD'}"
    )
    print(f"  {'route':<28} {'n':>6} {'p50 ms':>8} {'p99 ms':>8} {'max ms':>8}")
    for route, p in s["routes"].items():
        print(f"  {route:<28} {p['n']:>6} {p['p50_ms']:>8} {p['p99_ms']:>8} {p['max_ms']:>8}")
    sys.stdout.flush()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.load",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--rates",
        default="50,100,150,200,250,300",
        help="requests/s of each stage, comma-separated",
    )
    parser.add_argument("--seconds", type=float, default=60, help="length of each stage")
    parser.add_argument("--workers", type=int, default=2, help="`vouch api --workers`")
    parser.add_argument("--users", type=int, default=100)
    parser.add_argument("--seed", type=int, default=12)
    parser.add_argument(
        "--keep-going", action="store_true", help="run every rate, past the first not held"
    )
    parser.add_argument("--pg", default=PG_DSN, help="PostgreSQL database (a schema is made)")
    parser.add_argument("--redis", default=REDIS_URL, help="a Redis database the bench flushes")
    args = parser.parse_args(argv)
    args.rates = [float(r) for r in args.rates.split(",")]
    with tempfile.TemporaryDirectory(prefix="vouch-load-") as tmp:
        result = run(args, Path(tmp))
    print(
        f"\nhighest rate held (0 5xx, p99 <= {P99_GOAL_MS:g} ms): "
        f"{result['highest_rate_held']} req/s with {args.workers} workers on {result['cores']} "
        "cores shared with the generator, PostgreSQL and Redis"
    )
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())

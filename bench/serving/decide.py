"""Decision latency in-process, on Redis and on SQLite, against a bare redis-py GET.

    python -m bench.serving.decide [--decisions 100000] [--users 100000] [--redis URL]

Publishes ``--users`` synthetic scores to each backend, then times ``Decider.decide`` one call
at a time (``perf_counter_ns`` around each) over a mix of actions (order, payout, message,
post, comment, transfer) with an IP, device and country: every decision reads the record,
increments the action's per-user and per-IP counters and checks novelty where the action is
critical. The peer is a bare ``redis.Redis.get`` of one existing key on the same server, timed
the same way in the same run. Goals: decision p99 <= 2 x GET p99 on Redis; p99 <= 100 us on
SQLite.
"""

from __future__ import annotations

import argparse
import gc
import json
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

import numpy as np
import redis

from bench.serving.scores import synthetic_scores
from serving.decide import Context, Decider
from serving.publish import publish
from serving.rules import default_rules
from serving.store import RedisStore, SQLiteStore
from settings import Settings

BENCH_URL = "redis://127.0.0.1:6379/12"
ACTIONS = ("order", "payout", "message", "post", "comment", "transfer")


def _percentiles(ns: list[int]) -> dict[str, float]:
    us = np.asarray(ns, dtype=np.float64) / 1000
    return {
        "p50_us": round(float(np.percentile(us, 50)), 1),
        "p99_us": round(float(np.percentile(us, 99)), 1),
        "p999_us": round(float(np.percentile(us, 99.9)), 1),
    }


def time_decisions(decider: Decider, users: list[str], *, n: int, seed: int) -> dict[str, float]:
    rng = np.random.default_rng(seed)
    who = rng.integers(0, len(users), n)
    what = rng.integers(0, len(ACTIONS), n)
    contexts = [
        Context(ip=f"10.{i % 200}.{i % 7}.1", device=f"dev-{i % 3}", country="FR", verified=True)
        for i in range(64)
    ]
    outcomes: dict[str, int] = {}
    ns = []
    gc.disable()  # a collection mid-sample is the collector's latency, not ours
    try:
        for i in range(n):
            ctx = contexts[i & 63]
            start = time.perf_counter_ns()
            d = decider.decide(users[who[i]], ACTIONS[what[i]], context=ctx)
            ns.append(time.perf_counter_ns() - start)
            outcomes[d.outcome] = outcomes.get(d.outcome, 0) + 1
    finally:
        gc.enable()
    return {**_percentiles(ns), **{f"n_{k}": v for k, v in sorted(outcomes.items())}}


def time_gets(url: str, *, n: int) -> dict[str, float]:
    client = redis.Redis.from_url(url)
    client.set("bench:get", "x" * 60)
    ns = []
    gc.disable()
    try:
        for _ in range(n):
            start = time.perf_counter_ns()
            client.get("bench:get")
            ns.append(time.perf_counter_ns() - start)
    finally:
        gc.enable()
    client.delete("bench:get")
    return _percentiles(ns)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.serving.decide",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--decisions", type=int, default=100_000)
    parser.add_argument("--users", type=int, default=100_000)
    parser.add_argument("--redis", default=BENCH_URL, help="a database the bench may flush")
    args = parser.parse_args(argv)

    scores = synthetic_scores(args.users, seed=2)
    users = scores["user_id"].to_list()
    rules = default_rules()
    result: dict[str, object] = {"decisions": args.decisions, "users": args.users}

    store = RedisStore(args.redis, timeout_s=rules.store.budget_s)
    store.client.flushdb()
    publish(store, scores, snapshot="bench", grace=timedelta(0))
    decider = Decider(store, rules=rules)
    time_decisions(decider, users, n=2_000, seed=0)  # warm: connections, caches
    result["redis_get"] = time_gets(args.redis, n=args.decisions)
    result["redis_decide"] = time_decisions(decider, users, n=args.decisions, seed=1)
    store.client.flushdb()
    store.close()

    with tempfile.TemporaryDirectory() as tmp:
        path = Settings(data_dir=Path(tmp)).online_store
        lite = SQLiteStore(path, timeout_s=rules.store.budget_s)
        publish(lite, scores, snapshot="bench", grace=timedelta(0))
        decider = Decider(lite, rules=rules)
        time_decisions(decider, users, n=2_000, seed=0)
        result["sqlite_decide"] = time_decisions(decider, users, n=args.decisions, seed=1)
        lite.close()

    get99 = result["redis_get"]["p99_us"]
    dec99 = result["redis_decide"]["p99_us"]
    result["redis_p99_ratio"] = round(dec99 / get99, 2)
    print(
        f"Redis GET p50 {result['redis_get']['p50_us']} us p99 {get99} us; decision p50 "
        f"{result['redis_decide']['p50_us']} us p99 {dec99} us -> {result['redis_p99_ratio']} "
        f"x GET p99 (goal <= 2); SQLite decision p50 {result['sqlite_decide']['p50_us']} us "
        f"p99 {result['sqlite_decide']['p99_us']} us (goal <= 100)"
    )
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())

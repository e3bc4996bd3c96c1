"""A feed read: one 50-item page ranked from a 1,000-candidate timeline. Goal: p99 <= 5 ms.

    python -m bench.serving.feed [--viewers 100 --reads 3000 --backend redis|sqlite|both]

Builds ``--viewers`` timelines of 1,000 posts each (400 authors, 5% flagged, 5% low-trust) under
a random key prefix, publishes a feed version scoring 90% of each timeline (the rest are newer
than the version: fresh priors), then times ``serving.feed.read_feed`` on random viewers: first
pages, and second pages through the first page's cursor. Peers, measured in the same run on the
same connection: the bare ``ZREVRANGE key 0 999`` of the timeline (the least a read can do: one
round trip, no scores, no policy; also shown ``WITHSCORES``) and the read's two round trips
without the ranking (``window`` + ``signals``). Prints the figures and the ratios; asserts
nothing. Redis at ``$VOUCH_REDIS_URL`` (default ``redis://127.0.0.1:6379/0``); every key it made
is deleted afterwards.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import polars as pl

from serving.feed import RedisFeed, SqliteFeed, publish_feed, read_feed
from serving.keys import FeedKeys

AS_OF = datetime(2026, 11, 26, tzinfo=UTC)


def _platform(viewers: int, *, seed: int) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    """Timeline entries, published scores and author policy."""
    rng = np.random.default_rng(seed)
    authors = [str(uuid.UUID(int=int(rng.integers(2**62)) << 64 | i)) for i in range(400)]
    rows = []
    for v in range(viewers):
        viewer = str(uuid.UUID(int=(v + 1) << 64 | 7))
        ages = np.sort(rng.uniform(0, 3 * 86_400, 1000))  # seconds before AS_OF + 10% fresh
        for k, age in enumerate(ages):
            rows.append(
                (
                    viewer,
                    str(uuid.uuid4()),
                    authors[int(rng.integers(400))],
                    AS_OF + timedelta(seconds=0.1 * 3 * 86_400 - float(age)),
                    k,
                )
            )
    entries = pl.DataFrame(
        rows,
        orient="row",
        schema={
            "viewer_id": pl.String,
            "post_id": pl.String,
            "author_id": pl.String,
            "created_at": pl.Datetime("us", "UTC"),
            "k": pl.Int64,
        },
    )
    scored = entries.filter(pl.col("created_at") < AS_OF)
    scored = scored.with_columns(score=pl.Series(rng.normal(0.0, 1.0, scored.height)))
    policy = pl.DataFrame(
        {"author_id": authors[:40], "policy": ["flagged"] * 20 + ["low_trust"] * 20}
    )
    return entries.drop("k"), scored.select("viewer_id", "post_id", "score"), policy


def _timed(fn: Callable[[], object], n: int) -> np.ndarray:
    out = np.empty(n)
    for i in range(n):
        t = time.perf_counter_ns()
        fn()
        out[i] = time.perf_counter_ns() - t
    return out / 1e6  # ms


def _figures(ms: np.ndarray) -> dict[str, float]:
    return {
        "p50_ms": round(float(np.percentile(ms, 50)), 3),
        "p99_ms": round(float(np.percentile(ms, 99)), 3),
        "mean_ms": round(float(ms.mean()), 3),
    }


def bench_store(
    store: RedisFeed | SqliteFeed, viewers: list[str], *, reads: int, seed: int
) -> dict[str, object]:
    rng = random.Random(seed)
    pick = lambda: rng.choice(viewers)  # noqa: E731
    for _ in range(200):  # warm-up: connections, caches, code paths
        read_feed(store, pick())
    first = _timed(lambda: read_feed(store, pick()), reads)
    cursors = {v: read_feed(store, v).cursor for v in viewers}
    second = _timed(lambda: (v := pick()) and read_feed(store, v, cursor=cursors[v]), reads)
    page = read_feed(store, viewers[0])
    assert len(page.items) == 50 and page.version is not None  # the bench measures real pages

    def bare_two() -> None:
        v = pick()
        w = store.window(v, newest=None, oldest=None, limit=1000)
        assert w.current is not None
        store.signals(w.current, v, posts=w.posts, authors=list(dict.fromkeys(w.authors)))

    two = _timed(bare_two, reads)
    result: dict[str, object] = {
        "read_first_page": _figures(first),
        "read_next_page": _figures(second),
        "peer_window_plus_signals": _figures(two),
    }
    if isinstance(store, RedisFeed):
        client, keys = store.client, store.keys
        zrev = _timed(lambda: client.zrevrange(keys.timeline(pick()), 0, 999), reads)
        result["peer_bare_zrevrange_1000"] = _figures(zrev)
        scored = _timed(
            lambda: client.zrevrange(keys.timeline(pick()), 0, 999, withscores=True), reads
        )
        result["peer_bare_zrevrange_1000_withscores"] = _figures(scored)
        peer = float(np.percentile(zrev, 99))
        result["ratio_p99_read_to_zrevrange"] = round(float(np.percentile(first, 99)) / peer, 2)
        result["ratio_p50_read_to_zrevrange"] = round(
            float(np.percentile(first, 50)) / float(np.percentile(zrev, 50)), 2
        )
    result["ratio_p99_read_to_two_round_trips"] = round(
        float(np.percentile(first, 99)) / float(np.percentile(two, 99)), 2
    )
    result["goal_p99_5ms_met"] = bool(np.percentile(first, 99) <= 5.0)
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.serving.feed",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--viewers", type=int, default=100)
    parser.add_argument("--reads", type=int, default=3000)
    parser.add_argument("--backend", choices=("redis", "sqlite", "both"), default="both")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)
    entries, scores, policy = _platform(args.viewers, seed=args.seed)
    viewers = entries["viewer_id"].unique().sort().to_list()
    priors = scores.group_by("viewer_id").agg(
        fresh=pl.col("score").median(), stale=pl.col("score").min()
    )
    out: dict[str, object] = {
        "viewers": len(viewers),
        "timeline": 1000,
        "page": 50,
        "reads": args.reads,
        "scored_share": 0.9,
    }
    backends: list[str] = ["redis", "sqlite"] if args.backend == "both" else [args.backend]
    with tempfile.TemporaryDirectory() as tmp:
        for name in backends:
            if name == "redis":
                url = os.environ.get("VOUCH_REDIS_URL", "redis://127.0.0.1:6379/0")
                store: RedisFeed | SqliteFeed = RedisFeed.from_url(
                    url, keys=FeedKeys(f"bench-feed-{uuid.uuid4().hex[:8]}")
                )
            else:
                store = SqliteFeed(Path(tmp) / "feed.sqlite3")
            try:
                store.push(entries)
                publish_feed(
                    store,
                    scores=scores,
                    priors=priors,
                    authors=policy,
                    as_of=AS_OF,
                    model_version="bench/1",
                    demotion=float(np.log(0.1)),
                )
                out[name] = bench_store(store, viewers, reads=args.reads, seed=args.seed)
            finally:
                if isinstance(store, RedisFeed):
                    doomed = list(store.client.scan_iter(f"{store.keys.prefix}:*", count=1000))
                    for i in range(0, len(doomed), 1000):
                        store.client.unlink(*doomed[i : i + 1000])
                else:
                    store.close()
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    sys.exit(main())

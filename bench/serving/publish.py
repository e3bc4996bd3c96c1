"""Publishing a million user scores to Redis, against ``redis-benchmark`` on the same server.

    python -m bench.serving.publish [--records 1000000] [--repeat 3] [--redis URL]

The peer is ``redis-benchmark -t set -n 1000000 -P 1000`` (SET of 3-byte values, 1000 per
pipeline), run in the same process tree against the same server just before ours. Ours is
``serving.publish.publish``: validation, encoding every record, writing the version, the
manifest, the pointer flip and the prune, i.e. from a ``user_scores`` frame in memory to
readers seeing the new set. Prints figures and one JSON line; the goal is >= 0.5 x the peer.
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import statistics
import subprocess
import sys
import time
from datetime import timedelta
from urllib.parse import urlparse

from bench.serving.scores import synthetic_scores
from serving.publish import publish
from serving.store import RedisStore

BENCH_URL = "redis://127.0.0.1:6379/12"


def peer_sets_per_s(url: str, *, n: int) -> float:
    """``redis-benchmark -t set -n N -P 1000`` on the server of ``url``: requests per second."""
    exe = shutil.which("redis-benchmark")
    if exe is None:
        raise SystemExit("redis-benchmark not found (Debian package redis-tools)")
    where = urlparse(url)
    out = subprocess.run(
        [
            exe,
            "-h",
            where.hostname or "127.0.0.1",
            "-p",
            str(where.port or 6379),
            "--dbnum",
            where.path.strip("/") or "0",
            "-t",
            "set",
            "-n",
            str(n),
            "-P",
            "1000",
            "-q",
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    found = re.findall(r"SET: ([\d.]+) requests per second", out)
    if not found:
        raise SystemExit(f"could not read redis-benchmark's output: {out[-300:]!r}")
    return float(found[-1])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.serving.publish",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--records", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3, help="timed publishes (best and median)")
    parser.add_argument("--redis", default=BENCH_URL, help="a database the bench may flush")
    args = parser.parse_args(argv)

    scores = synthetic_scores(args.records, seed=1)
    bands = dict(scores["band"].value_counts().rows())
    print(f"{args.records:,} synthetic user scores, by band {bands}", file=sys.stderr)
    store = RedisStore(args.redis, timeout_s=5.0)
    store.client.flushdb()
    peers, ours = [], []
    for _ in range(args.repeat):
        peers.append(peer_sets_per_s(args.redis, n=args.records))
        store.client.flushdb()
        time.sleep(0.5)  # let Redis free the last round's memory first
        started = time.perf_counter()
        done = publish(store, scores, snapshot="bench", grace=timedelta(0))
        ours.append(args.records / (time.perf_counter() - started))
        assert store.versions()[0] == done.version
    store.client.flushdb()
    store.close()
    result = {
        "records": args.records,
        "ours_records_per_s_best": round(max(ours)),
        "ours_records_per_s_median": round(statistics.median(ours)),
        "peer_set_per_s_best": round(max(peers)),
        "peer_set_per_s_median": round(statistics.median(peers)),
        "ratio_median": round(statistics.median(ours) / statistics.median(peers), 3),
        "goal_ratio": 0.5,
    }
    r = result
    print(
        f"publish {args.records:,} records incl. flip: median "
        f"{r['ours_records_per_s_median']:,}/s (best {r['ours_records_per_s_best']:,}/s); "
        f"redis-benchmark SET -P 1000: median {r['peer_set_per_s_median']:,}/s "
        f"-> {r['ratio_median']} x (goal 0.5)"
    )
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())

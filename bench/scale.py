"""How the daily pipeline's cost grows with the platform: wall time, peak RSS and rows per step.

    python -m bench.scale --users 10000,30000,100000 --days 30 [--seed S] [--out DIR] [--docs]

For each size it simulates a platform into a data dir of its own (``DIR/u<users>``, default
``$VOUCH_DATA_DIR/bench/scale``), ingests it, then materialises the daily assets for the
snapshot after the last event day (what ``vouch features``, ``vouch models`` and ``vouch
publish`` run), one asset per process (``bench.scale_step``). The peer measured in the same run
is the simulation, whose cost is linear in events by construction. Per step it records wall
time, peak RSS (``os.wait4``: the kernel's high-water mark of that process alone) and rows
(counted in the tables afterwards, else the asset's metadata), fits each step's growth
exponent against lake events (least squares on log-log: 1.0 is linear, ~1.1 is n log n at
these sizes), prints a table, draws a log-log PNG (``DIR/scale.png``; ``--docs``: also
``docs/scale.png``) and, as its last line, prints one JSON object with every figure.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Sequence
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

from bench.scale_plot import plot
from pipelines.ingest.lake import Lake
from settings import Settings, get_settings

# The daily assets in the order the jobs run them (pipelines.definitions: features, models,
# publish); each is its own process.
ASSETS = (
    "trust_graph",
    "trust_scores",
    "fraud_features",
    "feed_training",
    "fraud_model",
    "feed_ranker",
    "user_scores",
    "review_queue",
    "credit_limits",
    "search_ranker",
    "published_scores",
    "feed_timelines",
    "feed_scores",
)
STEPS = ("simulate", "ingest", *ASSETS)
# Rows: the feature-store table an asset writes, else the metadata entry that counts its output.
TABLES = {
    "trust_scores": "trust_scores",
    "fraud_features": "fraud_features",
    "feed_training": "feed_training",
    "fraud_model": "risk_history",
    "user_scores": "user_scores",
    "review_queue": "review_queue",
    "credit_limits": "credit_limits",
}
COUNTED = {
    "simulate": ("simulate", "events"),
    "feed_ranker": ("feed_ranker", "groups_evaluated"),
    "search_ranker": ("search_ranker", "groups_evaluated"),
    "published_scores": ("published_scores", "records"),
    "feed_timelines": ("feed_timelines", "entries"),
    "feed_scores": ("feed_scores", "scores"),
}
ROOT = Path(__file__).resolve().parent.parent
MODEL_METRICS = (
    "roc_auc",
    "average_precision",
    "training_rows",
    "truth_roc_auc",
    "truth_average_precision",
)


def _count(files: list[Path]) -> int:
    if not files:
        return 0
    return int(pl.scan_parquet(files).select(pl.len()).collect().item())


def _rows(step: str, *, data: Path, day: str, meta: dict[str, Any]) -> int:
    layout = Settings(data_dir=data)
    if step == "ingest":
        return _count(sorted(Lake(layout.lake).events_dir.glob("*/*.parquet")))
    if step == "trust_graph":
        snapshot = layout.features / "trust_graph" / f"snapshot_date={day}"
        return _count(sorted(snapshot.glob("relation=*/*.parquet")))
    if step in TABLES:
        return _count(sorted((layout.features / TABLES[step]).glob(f"snapshot_date={day}/*")))
    asset, key = COUNTED[step]
    return int(meta.get(asset, {}).get(key, 0))


def _run_step(args: list[str], *, env: dict[str, str], log: Path) -> dict[str, Any]:
    """Run one step; its wall time and the kernel's peak RSS of that process (MB)."""
    started = time.perf_counter()
    with log.open("w") as out:
        child = subprocess.Popen(
            [sys.executable, "-m", "bench.scale_step", *args],
            env=env,
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=out,
            text=True,
        )
        assert child.stdout is not None
        try:
            text = child.stdout.read()
            _, status, usage = os.wait4(child.pid, 0)
        except BaseException:  # Ctrl-C or a kill of the bench: no step left running on its own
            child.kill()
            child.wait()
            raise
        child.returncode = os.waitstatus_to_exitcode(status)
    seconds = time.perf_counter() - started
    lines = text.strip().splitlines()
    if child.returncode != 0 or not lines:
        tail = "".join(log.read_text().splitlines(keepends=True)[-20:])
        raise RuntimeError(f"step {args[0]} failed ({child.returncode}); log {log}:\n{tail}")
    result = json.loads(lines[-1])
    # ru_maxrss is in KiB on Linux.
    return {"seconds": seconds, "peak_rss_mb": usage.ru_maxrss / 1024, "meta": result["assets"]}


def measure(
    users: int, *, days: int, seed: int, out: Path, steps: Sequence[str] = STEPS
) -> dict[str, Any]:
    """``steps`` (in STEPS order) at one size, in a fresh data dir ``out/u<users>``."""
    data = out / f"u{users}"
    shutil.rmtree(data, ignore_errors=True)
    data.mkdir(parents=True)
    env = {**os.environ, "VOUCH_DATA_DIR": str(data), "VOUCH_PARTITIONS_START": "2026-08-01"}
    env.pop("VOUCH_REDIS_URL", None)  # the embedded store: no shared server in the figures
    events_dir = Lake(Settings(data_dir=data).lake).events_dir
    snapshot = None
    done_steps: dict[str, dict[str, Any]] = {}
    for i, step in enumerate(steps):
        if step == "simulate":
            argv = [step, "--users", str(users), "--days", str(days), "--seed", str(seed)]
        elif step == "ingest":
            argv = [step]
        else:
            if snapshot is None:
                last = max(p.name.removeprefix("event_date=") for p in events_dir.glob("*"))
                snapshot = (date.fromisoformat(last) + timedelta(days=1)).isoformat()
            argv = [step, "--day", snapshot]
        print(
            f"  [{users:,} users] {i + 1}/{len(steps)} {step} ...",
            end="",
            file=sys.stderr,
            flush=True,
        )
        done = _run_step(argv, env=env, log=data / f"{step}.log")
        meta = done.pop("meta")
        done["rows"] = _rows(step, data=data, day=snapshot or "", meta=meta)
        if step == "fraud_model":  # what the model scored, so runs can be compared for equality
            model = meta.get("fraud_model", {})
            done["metrics"] = {k: model[k] for k in MODEL_METRICS if k in model}
        done_steps[step] = done
        print(
            f" {done['seconds']:.1f} s, {done['peak_rss_mb']:.0f} MB, {done['rows']:,} rows",
            file=sys.stderr,
            flush=True,
        )
    events = done_steps["ingest"]["rows"]
    return {
        "users": users,
        "days": days,
        "events": events,
        "snapshot": snapshot,
        "steps": done_steps,
    }


def exponents(sizes: list[dict[str, Any]], *, steps: Sequence[str]) -> dict[str, dict[str, float]]:
    """Per step, the slope of log(time) and log(peak RSS) against log(events)."""
    if len(sizes) < 2:
        return {}
    x = np.log([s["events"] for s in sizes])
    out = {}
    for step in steps:
        fit = {}
        for key, name in (("seconds", "time"), ("peak_rss_mb", "memory")):
            y = np.log([max(s["steps"][step][key], 1e-6) for s in sizes])
            fit[name] = float(np.polyfit(x, y, 1)[0])
        out[step] = fit
    return out


def table(
    sizes: list[dict[str, Any]], *, fits: dict[str, dict[str, float]], steps: Sequence[str]
) -> str:
    """Per step and size: seconds, peak MB, rows; then the fitted exponents."""
    nan = {"time": float("nan"), "memory": float("nan")}
    names = [f"{s['users']:,} users: s" for s in sizes]
    head = "".join(f"{name:>18}{'MB':>7}{'rows':>12}" for name in names)
    lines = [f"{'step':<17}{head}{'exp t':>7}{'exp m':>7}"]
    for step in steps:
        cells = "".join(
            f"{c['seconds']:>18.1f}{c['peak_rss_mb']:>7.0f}{c['rows']:>12,}"
            for c in (s["steps"][step] for s in sizes)
        )
        fit = fits.get(step, nan)
        lines.append(f"{step:<17}{cells}{fit['time']:>7.2f}{fit['memory']:>7.2f}")
    total = "".join(
        f"{sum(c['seconds'] for k, c in s['steps'].items() if k != 'simulate'):>18.1f}"
        f"{max(c['peak_rss_mb'] for k, c in s['steps'].items() if k != 'simulate'):>7.0f}"
        f"{s['events']:>12,}"
        for s in sizes
    )
    lines.append(f"{'pipeline (events)':<17}{total}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    # A kill of the bench unwinds through _run_step, which takes the running step down with it.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    parser = argparse.ArgumentParser(
        prog="python -m bench.scale",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--users", default="10000,30000,100000", help="sizes, comma-separated")
    parser.add_argument("--days", type=int, default=30, help="simulated days (default 30)")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--out", type=Path, help="data dirs and the PNG (default $VOUCH_DATA_DIR/bench/scale)"
    )
    parser.add_argument("--docs", action="store_true", help="also write docs/scale.png for README")
    parser.add_argument(
        "--steps",
        default=",".join(STEPS),
        help="the first steps to run, comma-separated, in pipeline order (default: all; "
        "simulate and ingest always)",
    )
    parser.add_argument("--keep", action="store_true", help="keep each size's data dir")
    args = parser.parse_args(argv)
    out = (args.out or get_settings().bench / "scale").resolve()
    users = [int(u) for u in args.users.split(",")]
    wanted = {"simulate", "ingest", *args.steps.split(",")}
    unknown = wanted - set(STEPS)
    if unknown:
        parser.error(f"unknown steps {sorted(unknown)}; known: {', '.join(STEPS)}")
    steps = [s for s in STEPS if s in wanted]
    sizes = []
    for n in users:
        sizes.append(measure(n, days=args.days, seed=args.seed, out=out, steps=steps))
        if not args.keep:
            shutil.rmtree(out / f"u{n}", ignore_errors=True)
    fits = exponents(sizes, steps=steps)
    print(table(sizes, fits=fits, steps=steps))
    pictures = [plot(sizes, steps=steps, path=out / "scale.png")]
    if args.docs:
        pictures.append(plot(sizes, steps=steps, path=ROOT / "docs" / "scale.png"))
    print(f"\nPlot: {', '.join(map(str, pictures))}")
    # The daily pipeline: everything but the simulation (the peer).
    peak = max(c["peak_rss_mb"] for s in sizes for k, c in s["steps"].items() if k != "simulate")
    print(
        json.dumps(
            {
                "bench": "scale",
                "days": args.days,
                "seed": args.seed,
                "sizes": sizes,
                "exponents": fits,
                "peak_rss_mb": peak,
                "peer": "simulate",
                "load": os.getloadavg()[0],
            }
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())

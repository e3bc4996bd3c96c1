"""Ingest benchmark: `vouch ingest` against a bare NDJSON -> Parquet conversion of the same files.

    python -m bench.ingest [--users 100000 --days 30 --faults 0]

Simulates the landing once (kept under $VOUCH_DATA_DIR/bench and reused while the settings match),
then times, in the same run and on the same files:
  - bare polars: scan_ndjson -> sink_parquet, one file (no validation, no dedupe, no quarantine);
  - bare DuckDB: COPY (read_ndjson) TO parquet;
  - `vouch ingest`: the real command (Dagster run, validation, dedupe, quarantine, checks, views),
    into an empty lake.
Prints events/s for each, the ratio of ours to the faster peer, our peak RSS and the load average
(other work shares the cores: read the ratio with it); writes bench/ingest.json in the data dir.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import duckdb
import polars as pl

from settings import Settings, get_settings
from simulator import SimConfig, simulate


def _landing(root: Path, config: SimConfig) -> tuple[Path, int]:
    layout = Settings(data_dir=root)
    landing, stamp = layout.landing, root / "landing.json"
    wanted = {
        "users": config.users,
        "days": config.days,
        "seed": config.seed,
        "faults": config.faults,
    }
    if stamp.exists() and json.loads(stamp.read_text())["config"] == wanted:
        return landing, json.loads(stamp.read_text())["lines"]
    shutil.rmtree(root, ignore_errors=True)
    summary = simulate(config, out=landing, truth_out=layout.truth, progress=True)
    stamp.write_text(json.dumps({"config": wanted, "lines": summary.lines}))
    return landing, summary.lines


def _timed(label: str, fn: Callable[[], object]) -> float:
    print(f"  {label} ...", end="", flush=True)
    started = time.perf_counter()
    fn()
    seconds = time.perf_counter() - started
    print(f" {seconds:.1f} s", flush=True)
    return seconds


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.ingest", description=__doc__)
    parser.add_argument("--users", type=int, default=100_000)
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--faults", type=float, default=0.0)
    args = parser.parse_args(argv)

    root = get_settings().bench / "ingest"
    config = SimConfig(users=args.users, days=args.days, seed=args.seed, faults=args.faults)
    landing, lines = _landing(root, config)
    files = sorted(str(p) for p in landing.rglob("*.ndjson"))
    size = sum(os.path.getsize(f) for f in files)
    print(f"landing: {lines:,} lines, {len(files)} files, {size / 1e9:.2f} GB")
    out = root / "out"
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)

    polars_s = _timed(
        "bare polars",
        lambda: pl.scan_ndjson(files, infer_schema_length=10_000, ignore_errors=True).sink_parquet(
            out / "polars.parquet"
        ),
    )
    duckdb_s = _timed(
        "bare duckdb",
        lambda: duckdb.sql(
            f"COPY (SELECT * FROM read_ndjson({files!r}, ignore_errors = true)) "
            f"TO '{out / 'duckdb.parquet'}' (FORMAT parquet)"
        ),
    )
    data_dir = root / "vouch-data"
    shutil.rmtree(data_dir, ignore_errors=True)
    # The landing is named in the settings too: Dagster's first partition follows its days.
    env = {**os.environ, "VOUCH_DATA_DIR": str(data_dir), "VOUCH_LANDING_DIR": str(landing)}
    vouch = str(Path(sys.executable).parent / "vouch")
    result: dict = {}

    def ours() -> None:
        done = subprocess.run(
            [vouch, "ingest", "--landing", str(landing), "--quiet"],
            env=env,
            check=True,
            capture_output=True,
            text=True,
        )
        result.update(json.loads(done.stdout.strip().splitlines()[-1]))

    ours_s = _timed("vouch ingest", ours)
    peer_s = min(polars_s, duckdb_s)
    # The only child process is `vouch ingest`: its peak resident memory.
    peak_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    figures = {
        "lines": lines,
        "bytes": size,
        "files": len(files),
        "vouch_ingest": result,
        "seconds": {
            "polars": round(polars_s, 2),
            "duckdb": round(duckdb_s, 2),
            "vouch_ingest": round(ours_s, 2),
        },
        "events_per_s": {
            "polars": round(lines / polars_s),
            "duckdb": round(lines / duckdb_s),
            "vouch_ingest": round(lines / ours_s),
        },
        "ratio_vs_fastest_bare": round(peer_s / ours_s, 3),
        "vouch_ingest_peak_rss_mb": round(peak_mb),
        # 1/5/15-minute load averages at the end, on a machine whose cores other work shares.
        "load_average": [round(x, 2) for x in os.getloadavg()],
    }
    (root / "ingest.json").write_text(json.dumps(figures, indent=2))
    print(json.dumps(figures))
    shutil.rmtree(out, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())

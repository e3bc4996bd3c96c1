"""Are two lakes the same in content? For performance changes to the ingest.

    python -m bench.lake_compare <lake A> <lake B>

Compares, after what each run stamps for itself is set aside (``ingested_at``, ``quarantined_at``,
the clock a future timestamp's detail names): the events of each ``event_date`` partition sorted
by event_id, the quarantine of each ``landing_date`` sorted by quarantine_id, and the ingest logs'
counts per landing day. Files, row groups and compression may differ. Exits 1 if any differ.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import polars as pl

_STAMPS = ("ingested_at", "quarantined_at")
_COUNTS = ("read", "ingested", "duplicates", "quarantined", "by_reason", "by_event_date", "late")


def _partitions(table: Path) -> list[str]:
    return sorted(p.name for p in table.glob("*=*") if any(p.glob("*.parquet")))


def _rows(directory: Path, key: str) -> pl.DataFrame:
    frame = pl.read_parquet(sorted(directory.glob("*.parquet")))
    frame = frame.drop([c for c in _STAMPS if c in frame.columns])
    if "detail" in frame.columns:  # a future timestamp's detail names the run's clock
        frame = frame.with_columns(pl.col("detail").str.replace(r" ahead of .*$", " ahead of now"))
    return frame.sort(key)


def _logs(lake: Path) -> dict[str, dict]:
    logs = [json.loads(p.read_text()) for p in sorted(lake.glob("_ingest_log/*/*.json"))]
    return {log["landing_date"]: {k: log[k] for k in _COUNTS} for log in logs}


def differences(a: Path, b: Path) -> list[str]:
    found = []
    for table, key in (("events", "event_id"), ("quarantine", "quarantine_id")):
        parts_a, parts_b = _partitions(a / table), _partitions(b / table)
        if parts_a != parts_b:
            found.append(f"{table}: partitions differ ({len(parts_a)} vs {len(parts_b)})")
            continue
        for part in parts_a:
            left, right = _rows(a / table / part, key), _rows(b / table / part, key)
            if not left.equals(right):
                found.append(f"{table}/{part}: {left.height} vs {right.height} rows, not equal")
    if _logs(a) != _logs(b):
        found.append("ingest logs' counts differ")
    return found


def main(argv: list[str] | None = None) -> int:
    a, b = (Path(p) for p in (argv or sys.argv[1:]))
    found = differences(a, b)
    print("\n".join(found) or f"same content: {a} and {b}")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())

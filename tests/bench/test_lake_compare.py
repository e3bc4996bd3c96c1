from __future__ import annotations

from datetime import date
from pathlib import Path

import polars as pl

from bench.lake_compare import differences
from pipelines.ingest import Lake, ingest_landing
from tests.conftest import NOW, wire


def _lake(root: Path, landing: Path) -> Path:
    files = sorted((landing / "2026-08-09").glob("*.ndjson"))
    lake = Lake(root)
    ingest_landing(files, landing=landing, lake=lake, landing_date=date(2026, 8, 9), now=NOW)
    return root


def test_lake_compare_sees_same_content_and_a_changed_row(tmp_path: Path) -> None:
    landing = tmp_path / "landing" / "2026-08-09"
    landing.mkdir(parents=True)
    late = wire(occurred_at="2026-08-02T12:00:00Z")
    (landing / "a.ndjson").write_bytes(b"\n".join([wire(), late, late, b"[]", wire()]) + b"\n")
    a = _lake(tmp_path / "a", landing.parent)
    b = _lake(tmp_path / "b", landing.parent)  # another run: other stamps, same content
    assert differences(a, b) == []
    part = next((b / "events" / "event_date=2026-08-09").glob("*.parquet"))
    pl.read_parquet(part).with_columns(pl.col("line") + 1).write_parquet(part)
    assert differences(a, b) == ["events/event_date=2026-08-09: 2 vs 2 rows, not equal"]

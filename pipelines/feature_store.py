"""Where feature tables live: ``<data>/features/<table>/snapshot_date=YYYY-MM-DD/part-0.parquet``.

One partition per snapshot date, written whole and renamed into place, so a reader sees the old
partition or the new one; a re-run replaces it.
"""

from __future__ import annotations

import os
import shutil
import uuid
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import polars as pl

_PREFIX = "snapshot_date="


@dataclass(frozen=True)
class FeatureStore:
    root: Path  # <data>/features

    def table(self, name: str) -> Path:
        return self.root / name

    def partition(self, name: str, day: date) -> Path:
        return self.table(name) / f"{_PREFIX}{day.isoformat()}"

    def write(self, name: str, day: date, *, frame: pl.DataFrame) -> Path:
        final = self.partition(name, day)
        tmp = final.with_name(f".{final.name}.{uuid.uuid4().hex[:8]}.tmp")
        tmp.mkdir(parents=True)
        frame.write_parquet(tmp / "part-0.parquet", compression="zstd")
        old = final.with_name(f".{final.name}.{uuid.uuid4().hex[:8]}.old")
        if final.exists():
            os.replace(final, old)
        os.replace(tmp, final)
        shutil.rmtree(old, ignore_errors=True)
        return final / "part-0.parquet"

    def days(self, name: str) -> list[date]:
        found = self.table(name).glob(f"{_PREFIX}*/part-0.parquet")
        return sorted(date.fromisoformat(p.parent.name.removeprefix(_PREFIX)) for p in found)

    def read(self, name: str, day: date) -> pl.DataFrame:
        return pl.read_parquet(self.partition(name, day) / "part-0.parquet")

    def read_until(self, name: str, day: date) -> pl.DataFrame | None:
        """Every partition up to and including ``day`` (for as-of joins), or None if none."""
        parts = [self.partition(name, d) / "part-0.parquet" for d in self.days(name) if d <= day]
        return pl.read_parquet(parts) if parts else None

    def previous(self, name: str, day: date) -> date | None:
        earlier = [d for d in self.days(name) if d < day]
        return earlier[-1] if earlier else None

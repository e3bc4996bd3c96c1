"""Where feature tables live: ``<data>/features/<table>/snapshot_date=YYYY-MM-DD/part-0.parquet``.

One partition per snapshot date, written whole and renamed into place, so a reader sees the old
partition or the new one; a re-run replaces it.

``VIEWS`` is the one list of the DuckDB views over these tables in the warehouse file (beside the
lake's ``events``, ``quarantine`` and typed views), so a notebook can ``SELECT * FROM user_scores``.
Each view globs every snapshot, with ``snapshot_date`` as a column: a view created once reads the
partitions written after it (DuckDB re-expands the glob and ``*`` on every query), so views are
made when a table first appears and whenever the lake's views are refreshed.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import uuid
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import duckdb
import polars as pl

_PREFIX = "snapshot_date="
log = logging.getLogger(__name__)

# view name -> (files under the feature root, what a row is). The globs name the partitions, so
# a write's hidden ``.snapshot_date=...tmp`` directory is never read half-written.
VIEWS: dict[str, tuple[str, str]] = {
    "trust_scores": (f"trust_scores/{_PREFIX}*/*.parquet", "a user's trust and graph signals"),
    "fraud_features": (
        f"fraud_features/{_PREFIX}*/*.parquet",
        "a user's point-in-time fraud features",
    ),
    "feed_training": (
        f"feed_training/{_PREFIX}*/*.parquet",
        "a shown post, its features and label",
    ),
    "user_scores": (f"user_scores/{_PREFIX}*/*.parquet", "a user's trust, risk, band and reasons"),
    "review_queue": (f"review_queue/{_PREFIX}*/*.parquet", "a user queued for review, by position"),
    "risk_history": (f"risk_history/{_PREFIX}*/*.parquet", "a user's risk at one moment"),
    "trust_graph_nodes": (f"trust_graph/{_PREFIX}*/nodes.parquet", "a user in a graph snapshot"),
    "trust_graph_edges": (
        f"trust_graph/{_PREFIX}*/relation=*/*.parquet",
        "an aggregated graph edge",
    ),
}


def create_views(con: duckdb.DuckDBPyConnection, root: Path) -> list[str]:
    """(Re)create the view of every table in ``VIEWS`` that has data; returns their names.

    A table with no partition yet gets no view: DuckDB cannot bind a glob that matches nothing.
    """
    made = []
    for name, (pattern, _) in VIEWS.items():
        if not any(root.glob(pattern)):
            continue
        con.execute(
            f"CREATE OR REPLACE VIEW {name} AS SELECT * FROM read_parquet("
            f"'{root / pattern}', hive_partitioning = true, union_by_name = true)"
        )
        made.append(name)
    return made


@dataclass(frozen=True)
class FeatureStore:
    root: Path  # <data>/features
    warehouse: Path | None = None  # the DuckDB file whose views a new table joins

    def table(self, name: str) -> Path:
        return self.root / name

    def partition(self, name: str, day: date) -> Path:
        return self.table(name) / f"{_PREFIX}{day.isoformat()}"

    def write(self, name: str, day: date, *, frame: pl.DataFrame) -> Path:
        final = self.partition(name, day)
        tmp = final.with_name(f".{final.name}.{uuid.uuid4().hex[:8]}.tmp")
        tmp.mkdir(parents=True)
        frame.write_parquet(tmp / "part-0.parquet", compression="zstd")
        new_table = not self.days(name)
        old = final.with_name(f".{final.name}.{uuid.uuid4().hex[:8]}.old")
        if final.exists():
            os.replace(final, old)
        os.replace(tmp, final)
        shutil.rmtree(old, ignore_errors=True)
        if new_table and self.warehouse is not None:
            self.refresh_views()
        return final / "part-0.parquet"

    def shard_partition(self, name: str, day: date, *, shard: int, shards: int) -> Path:
        """``<table>/snapshot_date=D/shard=K-of-N``: the count is in the name, so parts cut with
        another shard count are never read as this one's."""
        return self.partition(name, day) / f"shard={shard}-of-{shards}"

    def write_shard(
        self, name: str, day: date, *, shard: int, shards: int, frame: pl.DataFrame, source: dict
    ) -> Path:
        """One shard of a day, written whole and renamed into place (as :meth:`write`), with
        ``source`` (what it was computed from) in ``source.json`` beside it."""
        final = self.shard_partition(name, day, shard=shard, shards=shards)
        final.parent.mkdir(parents=True, exist_ok=True)
        tmp = final.with_name(f".{final.name}.{uuid.uuid4().hex[:8]}.tmp")
        tmp.mkdir()
        frame.write_parquet(tmp / "part-0.parquet", compression="zstd")
        (tmp / "source.json").write_text(json.dumps(source, sort_keys=True))
        old = final.with_name(f".{final.name}.{uuid.uuid4().hex[:8]}.old")
        if final.exists():
            os.replace(final, old)
        os.replace(tmp, final)
        shutil.rmtree(old, ignore_errors=True)
        return final / "part-0.parquet"

    def read_shard(
        self, name: str, day: date, *, shard: int, shards: int
    ) -> tuple[pl.DataFrame, dict] | None:
        """A shard written by :meth:`write_shard` and its ``source``, or None if absent."""
        folder = self.shard_partition(name, day, shard=shard, shards=shards)
        try:
            source = json.loads((folder / "source.json").read_text())
        except FileNotFoundError:
            return None
        return pl.read_parquet(folder / "part-0.parquet"), source

    def fingerprint(self, name: str, day: date) -> str:
        """Which write of a day's partition this is (size and mtime of its file): a shard
        computed from an older write says another one."""
        stat = (self.partition(name, day) / "part-0.parquet").stat()
        return f"{stat.st_size}-{stat.st_mtime_ns}"

    def refresh_views(self) -> list[str]:
        """Views for every table with data; a warehouse locked by another process (a notebook's
        connection) is left as it is, with a warning: the data is written, the next refresh
        (the ``warehouse_views`` asset) makes the view."""
        if self.warehouse is None:
            return []
        self.warehouse.parent.mkdir(parents=True, exist_ok=True)
        try:
            with duckdb.connect(str(self.warehouse)) as con:
                return create_views(con, self.root)
        except duckdb.IOException as error:
            log.warning("feature views not refreshed in %s: %s", self.warehouse, error)
            return []

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

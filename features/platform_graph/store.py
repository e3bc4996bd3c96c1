"""Graph snapshots on disk, one partition per snapshot date and relation, so history can grow.

    <root>/snapshot_date=D/relation=R/part-0.parquet   src, dst, weight, time, events
    <root>/snapshot_date=D/nodes.parquet               user_id, registered_at
    <root>/snapshot_date=D/_manifest.json              snapshot_at, edge counts, weights used

Snapshot D is the graph of every event before D 00:00 UTC: usable from that instant on, so an
as-of join picks the latest D with D <= t. A rebuild of D replaces the whole partition: it is
written beside the old one and swapped in by renames (readers glob a finished directory).
"""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
import uuid
from collections.abc import Iterable
from datetime import UTC, date, datetime, time
from pathlib import Path

import polars as pl

from features.lake import EventSource
from features.platform_graph.build import (
    EDGE_SCHEMA,
    EdgeWeights,
    graph_edges,
    graph_nodes,
    to_signed_graph,
)
from features.trust_engine.graph import SignedGraph

_PREFIX = "snapshot_date="


def snapshot_time(snapshot_date: date) -> datetime:
    return datetime.combine(snapshot_date, time(), tzinfo=UTC)


def snapshot_dir(root: Path, snapshot_date: date) -> Path:
    return Path(root) / f"{_PREFIX}{snapshot_date.isoformat()}"


def snapshot_dates(root: Path) -> list[date]:
    """Dates with a complete snapshot (one that has its manifest), oldest first."""
    root = Path(root)
    if not root.exists():
        return []
    return sorted(
        date.fromisoformat(p.name.removeprefix(_PREFIX))
        for p in root.glob(f"{_PREFIX}*")
        if (p / "_manifest.json").exists()
    )


def latest_snapshot_date(root: Path, at: datetime) -> date | None:
    """The snapshot an as-of reader at ``at`` may use: the latest one taken at or before it."""
    usable = [d for d in snapshot_dates(root) if snapshot_time(d) <= at]
    return usable[-1] if usable else None


def write_snapshot(
    root: Path,
    snapshot_date: date,
    *,
    edges: pl.DataFrame,
    nodes: pl.DataFrame,
    weights: EdgeWeights | None = None,
) -> Path:
    """Write (or replace) one snapshot partition; returns its directory."""
    final = snapshot_dir(root, snapshot_date)
    tmp = final.with_name(f".{final.name}.{uuid.uuid4().hex[:8]}.tmp")
    tmp.mkdir(parents=True)
    counts: dict[str, int] = {}
    for (relation,), part in edges.partition_by("relation", as_dict=True).items():
        out = tmp / f"relation={relation}" / "part-0.parquet"
        out.parent.mkdir()
        part.drop("relation").sort("src", "dst").write_parquet(out, compression="zstd")
        counts[str(relation)] = part.height
    nodes.select("user_id", "registered_at").sort("user_id").write_parquet(tmp / "nodes.parquet")
    manifest = {
        "snapshot_date": snapshot_date.isoformat(),
        "snapshot_at": snapshot_time(snapshot_date).isoformat(),
        "nodes": nodes.height,
        "edges": dict(sorted(counts.items())),
        "weights": dataclasses.asdict(weights or EdgeWeights()),
    }
    (tmp / "_manifest.json").write_text(json.dumps(manifest, indent=2) + "\n")
    old = final.with_name(f".{final.name}.{uuid.uuid4().hex[:8]}.old")
    if final.exists():
        os.replace(final, old)
    os.replace(tmp, final)
    shutil.rmtree(old, ignore_errors=True)
    return final


def build_snapshot(
    source: EventSource, root: Path, *, snapshot_date: date, weights: EdgeWeights | None = None
) -> Path:
    """Lake -> snapshot partition for ``snapshot_date`` (events before its midnight)."""
    at = snapshot_time(snapshot_date)
    edges = graph_edges(source, at, weights=weights)
    return write_snapshot(
        root, snapshot_date, edges=edges, nodes=graph_nodes(source, at), weights=weights
    )


def read_snapshot_edges(
    root: Path, snapshot_date: date, *, relations: Iterable[str] | None = None
) -> pl.DataFrame:
    """A stored snapshot's edge frame (EDGE_SCHEMA), optionally only some relations."""
    directory = snapshot_dir(root, snapshot_date)
    if not (directory / "_manifest.json").exists():
        raise FileNotFoundError(f"no complete snapshot at {directory}")
    wanted = None if relations is None else set(relations)
    parts = [
        pl.read_parquet(p).with_columns(relation=pl.lit(p.parent.name.removeprefix("relation=")))
        for p in sorted(directory.glob("relation=*/*.parquet"))
        if wanted is None or p.parent.name.removeprefix("relation=") in wanted
    ]
    if not parts:
        return pl.DataFrame(schema=EDGE_SCHEMA)
    return pl.concat(parts).select(list(EDGE_SCHEMA)).cast(EDGE_SCHEMA)


def read_snapshot_nodes(root: Path, snapshot_date: date) -> pl.DataFrame:
    return pl.read_parquet(snapshot_dir(root, snapshot_date) / "nodes.parquet")


def read_snapshot(
    root: Path, snapshot_date: date, *, relations: Iterable[str] | None = None
) -> SignedGraph:
    """A stored snapshot as a SignedGraph over all its nodes (whatever ``relations`` keeps)."""
    edges = read_snapshot_edges(root, snapshot_date, relations=relations)
    nodes = read_snapshot_nodes(root, snapshot_date).get_column("user_id")
    return to_signed_graph(edges, nodes=nodes)

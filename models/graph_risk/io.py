"""Reading an attributed graph from the outside data's three CSV files."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import polars as pl


@dataclass(frozen=True)
class AttributedGraph:
    """Nodes on dense ids 0..n-1, in the order of the features file."""

    src: np.ndarray
    dst: np.ndarray
    x: np.ndarray  # n x k attributes
    labels: np.ndarray  # n labels, 1 = anomaly
    ignored_edges: int  # edges naming a node the features file does not have


def _require(frame: pl.DataFrame, path: Path, columns: tuple[str, ...]) -> None:
    missing = set(columns) - set(frame.columns)
    if missing:
        raise ValueError(f"{path}: missing columns {sorted(missing)}")


def read_graph(edges: Path, features: Path, *, labels: Path) -> AttributedGraph:
    """``edges``: src,dst; ``features``: node,f0..fk; ``labels``: node,label (0/1).

    Node ids may be any values; missing attributes are filled with the column's median; every
    node needs a label and the labels at least two positives (one could be seen, one measured
    on). Edges naming unknown nodes are counted and dropped. Raises ValueError on anything else.
    """
    attributes, marks, pairs = pl.read_csv(features), pl.read_csv(labels), pl.read_csv(edges)
    _require(attributes, features, ("node",))
    _require(marks, labels, ("node", "label"))
    _require(pairs, edges, ("src", "dst"))
    ids = attributes["node"]
    if ids.is_duplicated().any():
        raise ValueError(f"{features}: repeated node ids")
    index = pl.DataFrame({"node": ids, "_i": np.arange(len(ids))})
    joined = index.join(marks.select("node", "label"), on="node", how="left").sort("_i")
    if joined["label"].null_count():
        raise ValueError(f"{labels}: {joined['label'].null_count()} nodes have no label")
    y = joined["label"].to_numpy().astype(np.int64)
    if not np.isin(y, (0, 1)).all() or y.sum() < 2:
        raise ValueError(f"{labels}: labels must be 0/1 with at least two positives")

    def dense(column: str) -> pl.Expr:
        return pl.col(column).replace_strict(index["node"], index["_i"], default=None)

    found = pairs.select(dense("src").alias("s"), dense("dst").alias("d"))
    known = found.drop_nulls()
    # Missing attribute values become the column's median (0 for an all-missing column): every
    # detector and both peers need numbers, and the median moves no one towards a tail.
    x = attributes.drop("node").cast(pl.Float64).fill_nan(None)
    x = x.with_columns(pl.all().fill_null(pl.all().median()).fill_null(0.0))
    return AttributedGraph(
        src=known["s"].to_numpy(),
        dst=known["d"].to_numpy(),
        x=x.to_numpy(),
        labels=y,
        ignored_edges=found.height - known.height,
    )

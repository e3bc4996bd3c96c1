"""External signed edge lists and fraud labels (CSV, no header) as a :class:`SignedGraph`.

Edges: ``src,dst,rating[,timestamp]``. Ratings may use any signed range (Bitcoin Alpha/OTC use
-10..10); they are divided by the largest absolute rating in the file, so weights land in
[-1, 1] with their sign and relative size kept and 0 kept neutral. Labels: ``node_id,label`` with
+1 benign and -1 fraudulent.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import polars as pl

from features.trust_engine.graph import SignedGraph


@dataclass(frozen=True)
class EdgeList:
    graph: SignedGraph
    rating_scale: float  # weight = rating / rating_scale
    self_loops_dropped: int


def dense_ids(src: pl.Series, dst: pl.Series) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(ids, src, dst)``: the sorted distinct ids and each edge's ends as int32 positions in
    them, exactly what ``SignedGraph.from_edges`` gives, without its ``np.unique`` over every
    end. Integer ids stay integers (sorting stays numeric); anything else becomes text.

    Text ids (UUIDs) go through a categorical: one hash lookup per end into a fresh category
    table, then only the distinct ids are sorted and the codes renumbered in that order. A
    numpy ``unique`` of fixed-width strings costs ten times that on 6M ends, and building
    those strings first as much again. UTF-8 byte order is code-point order, so the order is
    numpy's."""
    both = pl.concat([src, dst], rechunk=False)
    if both.dtype.is_integer():
        values = both.cast(pl.Int64).to_numpy()
        ids = both.cast(pl.Int64).unique().sort().to_numpy()
        dense = np.searchsorted(ids, values).astype(np.int32)
    else:
        table = pl.Categories.random()  # its own codes: none left over from earlier reads
        coded = both.cast(pl.Utf8).cast(pl.Categorical(table))
        names = table.to_series()  # while ``coded`` holds the table: it empties when freed
        codes = coded.to_physical().to_numpy()
        order = names.arg_sort().to_numpy()
        rank = np.empty(len(order), dtype=np.int32)
        rank[order] = np.arange(len(order), dtype=np.int32)
        dense = rank[codes]
        ids = names.gather(order).to_numpy().astype(str)
    return ids, dense[: len(src)], dense[len(src) :]


def read_signed_edges(path: str | Path) -> EdgeList:
    """Read ``src,dst,rating[,timestamp]`` into a graph with weights in [-1, 1].

    Self-ratings are dropped: vouching for oneself carries no evidence. Repeated pairs are kept
    as separate ratings (each one is evidence; ``SignedGraph.adjacency`` sums them).
    """
    try:
        frame = pl.read_csv(path, has_header=False, infer_schema_length=10_000)
    except pl.exceptions.NoDataError as exc:
        raise ValueError(f"{path}: no edges") from exc
    if frame.width not in (3, 4):
        raise ValueError(f"{path}: expected 3 or 4 columns (src,dst,rating[,timestamp])")
    names = ["src", "dst", "rating", "timestamp"][: frame.width]
    frame = frame.rename(dict(zip(frame.columns, names, strict=True)))
    if frame["src"].dtype != frame["dst"].dtype:
        frame = frame.with_columns(pl.col("src", "dst").cast(pl.Utf8))
    loops = frame["src"] == frame["dst"]
    frame = frame.filter(~loops)
    rating = frame["rating"].cast(pl.Float64, strict=False).to_numpy()
    if not np.isfinite(rating).all():
        raise ValueError(f"{path}: ratings must be numbers")
    scale = float(np.abs(rating).max()) if len(rating) else 1.0
    if scale == 0.0:
        raise ValueError(f"{path}: every rating is 0; nothing says trust or distrust")
    time = None
    if "timestamp" in frame.columns:
        if frame["timestamp"].null_count():
            raise ValueError(f"{path}: give every edge a timestamp, or none")
        time = frame["timestamp"].cast(pl.Float64, strict=False).to_numpy()
        if not np.isfinite(time).all():
            raise ValueError(f"{path}: timestamps must be numbers (unix seconds)")
    if frame["src"].null_count() or frame["dst"].null_count():
        raise ValueError(f"{path}: every edge needs both ends")
    ids, src, dst = dense_ids(frame["src"], frame["dst"])
    graph = SignedGraph(ids=ids, src=src, dst=dst, weight=rating / scale, time=time)
    return EdgeList(graph=graph, rating_scale=scale, self_loops_dropped=int(loops.sum()))


def read_labels(path: str | Path) -> pl.DataFrame:
    """``node_id,label`` -> one row per node (repeats collapsed), label +1 benign / -1 fraud.

    A node listed with both labels is an error rather than a silent pick.
    """
    frame = pl.read_csv(path, has_header=False, infer_schema_length=10_000)
    if frame.width != 2:
        raise ValueError(f"{path}: expected 2 columns (node_id,label)")
    frame = frame.rename(dict(zip(frame.columns, ["node_id", "label"], strict=True)))
    label = pl.col("label").cast(pl.Utf8).str.strip_chars().cast(pl.Int8, strict=False)
    frame = frame.with_columns(label)
    if frame["label"].null_count() or not frame["label"].is_in([1, -1]).all():
        raise ValueError(f"{path}: labels must be +1 (benign) or -1 (fraudulent)")
    unique = frame.unique(maintain_order=True)
    clash = unique.group_by("node_id").len().filter(pl.col("len") > 1)
    if clash.height:
        raise ValueError(f"{path}: conflicting labels for {clash['node_id'].to_list()[:5]}")
    return unique

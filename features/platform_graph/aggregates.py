"""Each user's neighbours' fraud features, per relation group, as of each snapshot time.

The platform model's rows describe one account; fraud is rarely one account. A mule's senders are
young unverified accounts, a sybil's friends are other sybils, a card tester shares an IP block
with accounts whose payments fail: the neighbours' features at the same time ``t`` say so. On
fraud graphs tree ensembles over such aggregates match or beat graph neural networks (GADBench,
NeurIPS 2023), so this is how the multi-relation graph reaches the trees.

For a snapshot at ``t`` the graph is ``build.graph_edges`` as of ``t`` (events strictly before
``t``, the same cut as the rows' features), the neighbours' values are their own rows at ``t``,
and a user's neighbours are grouped by relation (``NEIGHBOUR_GROUPS`` in ``schema``):
``nb_{group}_count`` distinct neighbours, then ``nb_{group}_{mean|max}_{column}`` of each
``NEIGHBOUR_COLUMNS`` entry (missing values count as 0; a user without neighbours in the group
gets null). Neighbours' labels (a confirmed fraud, a restriction, chargebacks) are inputs here on
purpose: guilt by association is evidence, and it is never the user's own label.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

import polars as pl

from features.lake import EventSource
from features.neighbours import neighbour_features
from features.platform_graph.build import graph_edges
from features.platform_graph.schema import (
    NEIGHBOUR_COLUMNS,
    NEIGHBOUR_FEATURES,
    NEIGHBOUR_GROUPS,
    NEIGHBOUR_STATISTICS,
)

EdgesAt = Callable[[datetime], pl.DataFrame]


def neighbour_aggregates(rows: pl.DataFrame, edges: pl.DataFrame) -> pl.DataFrame:
    """``NEIGHBOUR_FEATURES`` for ``rows`` (one snapshot: unique ``user_id`` with the
    ``NEIGHBOUR_COLUMNS``), row for row, over ``edges`` (``src, dst, relation``; edges to users
    not in ``rows`` are ignored)."""
    nodes = rows.select(
        "user_id",
        *(pl.col(c).cast(pl.Float64).fill_nan(None).fill_null(0.0) for c in NEIGHBOUR_COLUMNS),
    )
    parts = []
    for group, relations in NEIGHBOUR_GROUPS.items():
        found = neighbour_features(
            edges.filter(pl.col("relation").is_in(relations)),
            nodes,
            key="user_id",
            columns=NEIGHBOUR_COLUMNS,
            how=NEIGHBOUR_STATISTICS,
            prefix=f"nb_{group}",
        )
        parts.append(found.drop("user_id"))
    out = pl.concat(parts, how="horizontal")
    return out.select(
        pl.col(f.name).cast(f.dtype).fill_nan(None) if f.nullable else pl.col(f.name)
        for f in NEIGHBOUR_FEATURES
    )


def with_neighbour_features(
    rows: pl.DataFrame, source: EventSource, *, edges_at: EdgesAt | None = None
) -> pl.DataFrame:
    """``rows`` (``user_id``, ``at`` and ``NEIGHBOUR_COLUMNS``, any number of snapshot times) with
    ``NEIGHBOUR_FEATURES`` appended, in the same order. ``edges_at(t)`` gives the graph as of
    ``t`` (default: ``graph_edges(source, t)``)."""
    edges_at = edges_at or (lambda t: graph_edges(source, t))
    # Only the columns the aggregates read go through the per-snapshot groups and the sort back
    # to row order; the wide rows are never copied (a copy of 14 snapshots' rows is GBs).
    indexed = rows.select("user_id", "at", *NEIGHBOUR_COLUMNS).with_row_index("_row")
    parts = []
    for (at,), snapshot in indexed.group_by("at", maintain_order=True):
        assert isinstance(at, datetime)
        found = neighbour_aggregates(snapshot, edges_at(at))
        parts.append(pl.concat([snapshot.select("_row"), found], how="horizontal"))
    if not parts:
        return rows.with_columns(pl.lit(None, f.dtype).alias(f.name) for f in NEIGHBOUR_FEATURES)
    found = pl.concat(parts).sort("_row").drop("_row")
    return pl.concat([rows, found], how="horizontal")

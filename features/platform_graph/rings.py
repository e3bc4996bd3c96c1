"""Ring signals: FRAUDAR-style dense blocks in the user–device / user–IP bipartite graphs.

FRAUDAR (Hooi et al., KDD 2016) scores a node set S of a bipartite graph by g(S) = f(S) / |S|, f
the summed weight of edges inside S, with each edge into column j weighted 1 / log(deg(j) + c):
columns everyone touches (a carrier IP, a popular device model) count little, so camouflage and
hubs cannot make a set dense. Greedy peeling removes, one at a time, the node whose removal loses
the least weight (its current weighted degree, kept in a heap with lazy deletion: O(m log n)) and
keeps the densest set seen; the result is within a factor 2 of the densest set.

Peeling never moves weight between connected components, so one global peel also peels every
component exactly as it would be peeled alone (ties go to the lower node index either way). Each
component's densest prefix is then one *block*, found in one pass instead of one peel per block.
Further ``rounds`` peel what is left after removing the blocks found (FRAUDAR's "remove the block
and repeat"), which splits big components into several blocks.

Entities seen with a single user are dropped first: they cannot link accounts and would only pad
every user's degree.
"""

from __future__ import annotations

import heapq
from dataclasses import dataclass
from typing import cast

import numpy as np
import polars as pl
import scipy.sparse as sp
from scipy.sparse.csgraph import connected_components

RING_KINDS = {"device": ("device",), "ip": ("ip",), "device_ip": ("device", "ip")}


@dataclass(frozen=True)
class Bipartite:
    """Edges between rows (users) 0..n_rows-1 and columns (entities) 0..n_cols-1."""

    rows: np.ndarray
    cols: np.ndarray
    n_rows: int
    n_cols: int

    def column_weights(self, c: float = 5.0) -> np.ndarray:
        """FRAUDAR's edge weights 1 / log(deg(col) + c)."""
        deg = np.bincount(self.cols, minlength=self.n_cols)
        return 1.0 / np.log(deg[self.cols] + c)


def peel(graph: Bipartite, weights: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Greedy peeling of all nodes (rows 0..R-1, columns R..R+C-1).

    Returns the removal order and each removed node's weighted degree at its removal (the weight
    its removal lost).
    """
    n = graph.n_rows + graph.n_cols
    a = graph.rows.astype(np.int64)
    b = graph.cols.astype(np.int64) + graph.n_rows
    adj = sp.csr_matrix(
        (np.concatenate([weights, weights]), (np.concatenate([a, b]), np.concatenate([b, a]))),
        shape=(n, n),
    )
    adj.sum_duplicates()
    deg = np.asarray(adj.sum(axis=1)).ravel().tolist()
    # Plain lists: the loop below touches one element at a time, where numpy scalars are slow.
    indptr, indices, data = adj.indptr.tolist(), adj.indices.tolist(), adj.data.tolist()
    alive = [True] * n
    heap = [(d, i) for i, d in enumerate(deg)]
    heapq.heapify(heap)
    order: list[int] = []
    lost: list[float] = []
    pop, push = heapq.heappop, heapq.heappush
    while heap:
        d, i = pop(heap)
        if not alive[i] or d != deg[i]:
            continue  # a stale entry: the node was removed or its degree has dropped since
        alive[i] = False
        order.append(i)
        lost.append(d)
        for p in range(indptr[i], indptr[i + 1]):
            j = indices[p]
            if alive[j]:
                deg[j] -= data[p]
                push(heap, (deg[j], j))
    return np.asarray(order, dtype=np.int64), np.asarray(lost, dtype=np.float64)


def densest_block(graph: Bipartite, *, c: float = 5.0) -> tuple[np.ndarray, np.ndarray, float]:
    """FRAUDAR's single densest block: (row ids, column ids, density g)."""
    w = graph.column_weights(c)
    order, lost = peel(graph, w)
    n = order.size
    remaining = w.sum() - np.concatenate([[0.0], np.cumsum(lost)[:-1]])
    density = remaining / (n - np.arange(n))
    k = int(np.argmax(density))
    block = order[k:]
    rows = np.sort(block[block < graph.n_rows])
    cols = np.sort(block[block >= graph.n_rows] - graph.n_rows)
    return rows, cols, float(density[k])


def block_density(graph: Bipartite, *, rows: np.ndarray, cols: np.ndarray, c: float = 5.0) -> float:
    """g(S) of a given node set: the reference the peeling result is tested against."""
    w = graph.column_weights(c)
    inside = np.isin(graph.rows, rows) & np.isin(graph.cols, cols)
    size = len(rows) + len(cols)
    return float(w[inside].sum() / size) if size else 0.0


def component_blocks(graph: Bipartite, *, c: float = 5.0, rounds: int = 2) -> pl.DataFrame:
    """Blocks of every component: (node, block, density, round), nodes as in :func:`peel`.

    Nodes in no block (isolated, or peeled away in every round) are left out.
    """
    weights = graph.column_weights(c)
    n = graph.n_rows + graph.n_cols
    free = np.ones(n, dtype=bool)
    found: list[pl.DataFrame] = []
    offset = 0
    for r in range(rounds):
        keep = free[graph.rows] & free[graph.cols + graph.n_rows]
        if not keep.any():
            break
        sub = Bipartite(graph.rows[keep], graph.cols[keep], graph.n_rows, graph.n_cols)
        blocks = _blocks_once(sub, weights[keep])
        blocks = blocks.with_columns(block=pl.col("block") + offset, round=pl.lit(r, pl.Int8))
        # polars types max() as any Python scalar; "block" is an integer column.
        offset += (cast("int | None", blocks.get_column("block").max()) or 0) + 1
        found.append(blocks)
        free[blocks.get_column("node").to_numpy()] = False
    if not found:
        return pl.DataFrame(
            schema={"node": pl.Int64, "block": pl.Int64, "density": pl.Float64, "round": pl.Int8}
        )
    return pl.concat(found)


def _blocks_once(graph: Bipartite, weights: np.ndarray) -> pl.DataFrame:
    n = graph.n_rows + graph.n_cols
    a, b = graph.rows, graph.cols + graph.n_rows
    link = sp.csr_matrix((np.ones(a.size), (a, b)), shape=(n, n))
    _, comp = connected_components(link, directed=False)
    touched = np.zeros(n, dtype=bool)
    touched[a] = touched[b] = True
    order, lost = peel(graph, weights)
    per_comp = pl.DataFrame(
        {
            "comp": np.arange(n),
            "total": np.bincount(comp[a], weights=weights, minlength=n),
            "size": np.bincount(comp[touched], minlength=n),
        }
    )
    steps = (
        pl.DataFrame({"node": order, "lost": lost, "comp": comp[order]})
        .filter(pl.Series(touched[order]))
        .with_columns(
            k=pl.int_range(pl.len()).over("comp"),
            before=pl.col("lost").cum_sum().over("comp") - pl.col("lost"),
        )
        .join(per_comp, on="comp")
        .with_columns(density=(pl.col("total") - pl.col("before")) / (pl.col("size") - pl.col("k")))
    )
    # The densest prefix of each component starts at its argmax step (the first, on ties).
    best = steps.group_by("comp").agg(
        start=pl.col("k").get(pl.col("density").arg_max()), density=pl.col("density").max()
    )
    return (
        steps.select("node", "comp", "k")
        .join(best, on="comp")
        .filter(pl.col("k") >= pl.col("start"))
        .select("node", block=pl.col("comp").cast(pl.Int64), density="density")
    )


def _bipartite(
    sightings: pl.DataFrame, kind: str, *, min_users: int
) -> tuple[Bipartite, pl.DataFrame]:
    """The kind's bipartite graph over linking entities, and its user index (user_id, row)."""
    users = sightings.select(pl.col("user_id").unique().sort()).with_row_index("row")
    links = (
        sightings.filter(pl.col("kind").is_in(RING_KINDS[kind]))
        .select("user_id", "kind", "entity")
        .unique()
        .filter(pl.len().over("kind", "entity") >= min_users)
        .with_columns(col=pl.struct("kind", "entity").rank("dense").cast(pl.Int64) - 1)
        .join(users, on="user_id")
    )
    graph = Bipartite(
        rows=links.get_column("row").cast(pl.Int64).to_numpy(),
        cols=links.get_column("col").to_numpy(),
        n_rows=users.height,
        n_cols=links.height and cast(int, links.get_column("col").max()) + 1,  # not `max or -1`: 0
    )
    return graph, users


def dense_blocks(
    sightings: pl.DataFrame,
    kind: str = "device_ip",
    *,
    c: float = 5.0,
    rounds: int = 2,
    min_users: int = 2,
) -> pl.DataFrame:
    """Each user's block in one bipartite graph (``kind`` in RING_KINDS).

    Columns: user_id, block (0 = the densest block of this kind), density, block_users,
    block_entities, round. Users in no block are left out.
    """
    graph, users = _bipartite(sightings, kind, min_users=min_users)
    nodes = component_blocks(graph, c=c, rounds=rounds)
    is_user = pl.col("node") < graph.n_rows
    sizes = nodes.group_by("block").agg(
        block_users=is_user.sum().cast(pl.UInt32),
        block_entities=(~is_user).sum().cast(pl.UInt32),
        density=pl.col("density").first(),
        round=pl.col("round").first(),
    )
    rank = sizes.sort(["density", "block"], descending=[True, False]).with_row_index("rank")
    return (
        nodes.filter(is_user)
        .join(users, left_on="node", right_on=pl.col("row").cast(pl.Int64))
        .join(rank.drop("density", "round"), on="block")
        .select(
            "user_id",
            block=pl.col("rank").cast(pl.Int32),
            density="density",
            block_users="block_users",
            block_entities="block_entities",
            round="round",
        )
        .sort("block", "user_id")
    )


def ring_signals(
    sightings: pl.DataFrame,
    *,
    kinds: tuple[str, ...] = tuple(RING_KINDS),
    c: float = 5.0,
    rounds: int = 2,
) -> pl.DataFrame:
    """Per sighted user, for each kind: ``ring_<kind>_{density, block, block_users,
    block_entities}`` (density 0 and block null when the user is in no block)."""
    out = sightings.select(pl.col("user_id").unique().sort())
    for kind in kinds:
        blocks = dense_blocks(sightings, kind, c=c, rounds=rounds).select(
            "user_id", "density", "block", "block_users", "block_entities"
        )
        out = out.join(
            blocks.rename({name: f"ring_{kind}_{name}" for name in blocks.columns[1:]}),
            on="user_id",
            how="left",
        ).with_columns(
            pl.col(f"ring_{kind}_density").fill_null(0.0),
            pl.col(f"ring_{kind}_block_users").fill_null(0),
            pl.col(f"ring_{kind}_block_entities").fill_null(0),
        )
    return out

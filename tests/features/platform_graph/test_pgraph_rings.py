from __future__ import annotations

import itertools
from datetime import UTC, datetime, time, timedelta

import numpy as np
import polars as pl
import pytest

from features.platform_graph import (
    Bipartite,
    block_density,
    component_blocks,
    dense_blocks,
    densest_block,
    read_sightings,
    ring_signals,
)
from features.platform_graph.schema import DENSE_BLOCKS, RING_SIGNALS, polars_schema
from tests.conftest import SmallLake


def _random_bipartite(rng: np.random.Generator, *, rows: int, cols: int, m: int) -> Bipartite:
    pairs = {(int(rng.integers(rows)), int(rng.integers(cols))) for _ in range(m)}
    r, c = np.array(sorted(pairs)).T
    return Bipartite(r, c, rows, cols)


def _brute_force(graph: Bipartite) -> float:
    """max g(S) over every non-empty node subset."""
    n = graph.n_rows + graph.n_cols
    best = 0.0
    for size in range(1, n + 1):
        for subset in itertools.combinations(range(n), size):
            s = np.array(subset)
            rows, cols = s[s < graph.n_rows], s[s >= graph.n_rows] - graph.n_rows
            best = max(best, block_density(graph, rows=rows, cols=cols))
    return best


@pytest.mark.parametrize("seed", range(6))
def test_peeling_agrees_with_brute_force_on_tiny_graphs(seed: int) -> None:
    graph = _random_bipartite(np.random.default_rng(seed), rows=5, cols=4, m=10)
    rows, cols, density = densest_block(graph)
    assert density == pytest.approx(block_density(graph, rows=rows, cols=cols))
    optimum = _brute_force(graph)
    assert optimum / 2 - 1e-12 <= density <= optimum + 1e-12  # greedy's guarantee


def test_peeling_finds_the_optimum_of_a_clear_block() -> None:
    # A 3 x 3 complete block plus a few stray edges to other nodes.
    block = [(r, c) for r in range(3) for c in range(3)]
    stray = [(3, 3), (4, 3), (4, 4), (5, 2)]
    r, c = np.array(block + stray).T
    graph = Bipartite(r, c, 6, 5)
    rows, cols, density = densest_block(graph)
    assert density == pytest.approx(_brute_force(graph))
    assert rows.tolist() == [0, 1, 2] and cols.tolist() == [0, 1, 2]


def test_peeling_finds_a_planted_block_in_a_random_graph() -> None:
    rng = np.random.default_rng(7)
    rows, cols = 3000, 800
    noise_r = rng.integers(0, rows, 9000)
    noise_c = rng.integers(0, cols, 9000)
    planted_rows = rng.choice(rows, 40, replace=False)
    planted_cols = rng.choice(cols, 12, replace=False)
    keep = rng.random(40 * 12) < 0.8  # a block, not a perfect biclique
    block_r = np.repeat(planted_rows, 12)[keep]
    block_c = np.tile(planted_cols, 40)[keep]
    pairs = np.unique(np.c_[np.r_[noise_r, block_r], np.r_[noise_c, block_c]], axis=0)
    found_rows, found_cols, _ = densest_block(Bipartite(pairs[:, 0], pairs[:, 1], rows, cols))
    hit = np.isin(found_rows, planted_rows).sum()
    assert hit / len(found_rows) >= 0.9  # precision
    assert hit / len(planted_rows) >= 0.9  # recall
    assert set(found_cols) == set(planted_cols)


def _connected_part(rng: np.random.Generator, *, rows: int, cols: int, extra: int) -> Bipartite:
    """Row 0 touches every column and every row touches a column: one component."""
    pairs = {(0, c) for c in range(cols)} | {(r, r % cols) for r in range(rows)}
    pairs |= {(int(rng.integers(rows)), int(rng.integers(cols))) for _ in range(extra)}
    r, c = np.array(sorted(pairs)).T
    return Bipartite(r, c, rows, cols)


def test_one_peel_gives_every_component_its_own_densest_block() -> None:
    rng = np.random.default_rng(3)
    parts = [
        _connected_part(rng, rows=rows, cols=cols, extra=extra)
        for rows, cols, extra in ((6, 3, 8), (9, 4, 14), (4, 4, 6), (12, 2, 4))
    ]
    r0 = np.cumsum([0] + [p.n_rows for p in parts])
    c0 = np.cumsum([0] + [p.n_cols for p in parts])
    whole = Bipartite(
        np.concatenate([p.rows + r0[i] for i, p in enumerate(parts)]),
        np.concatenate([p.cols + c0[i] for i, p in enumerate(parts)]),
        int(r0[-1]),
        int(c0[-1]),
    )
    blocks = component_blocks(whole, rounds=1)
    for i, part in enumerate(parts):
        rows, cols, density = densest_block(part)
        nodes = set((rows + r0[i]).tolist()) | set((cols + c0[i] + whole.n_rows).tolist())
        mine = blocks.filter(pl.col("node").is_in(list(nodes)))
        assert set(mine["node"].to_list()) == nodes
        assert mine["density"].unique().item() == pytest.approx(density)
    assert blocks["block"].n_unique() == len(parts)


@pytest.fixture(scope="module")
def small_rings(small_lake: SmallLake) -> pl.DataFrame:
    end = datetime.combine(small_lake.start, time(), tzinfo=UTC) + timedelta(days=small_lake.days)
    sightings = read_sightings(small_lake.events, end)
    truth = pl.read_parquet(small_lake.truth / "users.parquet").select(
        "user_id", typology=pl.col("typology").fill_null("honest")
    )
    signals = ring_signals(sightings)
    assert dict(signals.schema) == polars_schema(RING_SIGNALS)
    blocks = dense_blocks(sightings, "device")
    assert dict(blocks.schema) == polars_schema(DENSE_BLOCKS)
    return signals.join(truth, on="user_id")


def test_sybil_rings_sit_in_dense_device_ip_blocks(small_rings: pl.DataFrame) -> None:
    dense = small_rings.group_by("typology").agg(
        share=(pl.col("ring_device_ip_density") >= 0.5).mean(), n=pl.len()
    )
    share = dict(dense.select("typology", "share").iter_rows())
    assert dense.filter(pl.col("typology") == "sybil_ring")["n"].item() >= 10
    assert share["sybil_ring"] >= 0.75
    assert share["honest"] <= 0.01
    # Devices alone: honest users never share one, ring members nearly always do.
    device = small_rings.group_by(pl.col("typology") == "sybil_ring").agg(
        (pl.col("ring_device_density") > 0).mean()
    )
    by_kind = dict(device.iter_rows())
    assert by_kind[True] >= 0.75 and by_kind[False] <= 0.05


def test_a_single_shared_entity_is_still_a_graph() -> None:
    # Regression: one linking entity (column 0) once made the graph think it had none.
    from datetime import UTC, datetime

    import polars as pl

    from features.platform_graph.rings import dense_blocks

    at = datetime(2026, 8, 1, tzinfo=UTC)
    sightings = pl.DataFrame(
        {
            "user_id": ["a", "b", "c"],
            "kind": ["device"] * 3,
            "entity": ["d1"] * 3,
            "first_seen": [at] * 3,
            "last_seen": [at] * 3,
            "events": [1, 1, 1],
        },
    )
    blocks = dense_blocks(sightings, "device", min_users=2)
    assert sorted(blocks["user_id"].to_list()) == ["a", "b", "c"]

"""bench.trust end to end on a small graph: same answer as igraph, a JSON of the figures."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from bench.trust import main, synthetic_graph
from settings import get_settings


def test_synthetic_graph_is_deterministic_and_heavy_tailed() -> None:
    a = synthetic_graph(5000, 50_000, seed=1)
    b = synthetic_graph(5000, 50_000, seed=1)
    assert all(np.array_equal(x, y) for x, y in zip(a, b, strict=True))
    src, dst, weight = a
    assert (
        len(src) == 50_000
        and (src != dst).all()
        and (np.abs(weight) <= 1).all()
        and 0.03 < (weight < 0).mean() < 0.12
    )
    degree = np.bincount(dst, minlength=5000)
    assert degree.max() > 20 * degree.mean()  # hubs, as in real rating graphs


def test_bench_runs_small(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VOUCH_DATA_DIR", str(tmp_path))
    get_settings.cache_clear()
    try:
        code = main(
            [
                "--nodes",
                "3000",
                "--edges",
                "30000",
                "--seeds",
                "20",
                "--repeat",
                "1",
                "--nx-nodes",
                "500,1000",
            ]
        )
    finally:
        get_settings.cache_clear()
    figures = json.loads((tmp_path / "bench" / "trust.json").read_text())
    assert code == 0 and figures["equal_within_1e-6"]
    assert figures["networkx"]["runs"][0]["l1_vs_ours"] < 1e-6

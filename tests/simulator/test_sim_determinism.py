"""The same configuration gives byte-identical output; another seed gives another world."""

from __future__ import annotations

from pathlib import Path

import polars as pl

from simulator import SimConfig

from .conftest import run


def snapshot(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*.ndjson"))}


def test_same_config_same_bytes(tmp_path: Path) -> None:
    config = SimConfig(users=400, days=3, seed=3, faults=0.002)
    a = run(tmp_path / "a", config)
    b = run(tmp_path / "b", config)
    assert snapshot(a.out) == snapshot(b.out)
    for name in ("users", "posts", "orders", "faults", "transport"):
        left = pl.read_parquet(a.truth / f"{name}.parquet")
        right = pl.read_parquet(b.truth / f"{name}.parquet")
        assert left.equals(right), name
    assert (a.truth / "manifest.json").read_text() == (b.truth / "manifest.json").read_text()
    c = run(tmp_path / "c", SimConfig(users=400, days=3, seed=4, faults=0.002))
    other = snapshot(c.out)
    assert other.keys() == snapshot(a.out).keys()
    assert all(other[k] != v for k, v in snapshot(a.out).items())

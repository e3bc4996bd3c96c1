from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import polars as pl
import pytest

from features.feed.asof import asof_decayed, asof_sums

T = datetime(2026, 1, 1, tzinfo=UTC)


@pytest.mark.parametrize("half_life", [timedelta(hours=1), timedelta(days=3)])
def test_as_of_totals_match_brute_force(half_life: timedelta) -> None:
    rng = np.random.default_rng(4)
    n, m, hours = 2000, 300, 24 * 60  # 60 days: hundreds of half-lives at 1 h (many cells)
    events = pl.DataFrame(
        {
            "a": rng.integers(0, 4, n).astype(np.uint32),
            "b": rng.integers(0, 3, n),
            "t": [T + timedelta(minutes=int(x)) for x in rng.integers(0, hours * 60, n)],
            "v": rng.random(n),
            "k": np.ones(n, dtype=np.uint32),
        }
    )
    keys = pl.DataFrame(
        {
            "a": rng.integers(0, 5, m).astype(np.uint32),  # 4 never occurs in the events
            "b": rng.integers(0, 3, m),
            "at": [T + timedelta(minutes=int(x)) for x in rng.integers(0, hours * 60 + 600, m)],
        }
    )
    sums = asof_sums(keys, events, by=["a", "b"], at="at", time="t", sums=["v", "k"])
    decayed = asof_decayed(
        keys, events, by=["a", "b"], at="at", time="t", value="v", half_life=half_life, name="d"
    )
    assert sums.select("a", "b", "at").equals(keys) and decayed.select(keys.columns).equals(keys)
    ea, eb = events["a"].to_numpy(), events["b"].to_numpy()
    et, ev = events["t"].dt.epoch("us").to_numpy(), events["v"].to_numpy()
    hl_us = half_life / timedelta(microseconds=1)
    for i, (a, b, at) in enumerate(keys.select("a", "b", pl.col("at").dt.epoch("us")).iter_rows()):
        before = (ea == a) & (eb == b) & (et < at)  # strictly before
        assert sums["v"][i] == pytest.approx(ev[before].sum(), abs=1e-9)
        assert sums["k"][i] == before.sum()
        want = (ev[before] * 0.5 ** ((at - et[before]) / hl_us)).sum()
        assert decayed["d"][i] == pytest.approx(want, rel=1e-9, abs=1e-300)


def test_as_of_totals_ignore_input_order() -> None:
    rng = np.random.default_rng(5)
    events = pl.DataFrame(
        {
            "a": rng.integers(0, 3, 500).astype(np.uint32),
            "t": [T + timedelta(hours=int(h)) for h in rng.integers(0, 20, 500)],  # many ties
            "v": rng.random(500) * 1e3,
        }
    )
    keys = pl.DataFrame({"a": [0, 1, 2], "at": [T + timedelta(hours=30)] * 3}).with_columns(
        pl.col("a").cast(pl.UInt32)
    )
    kwargs = {"by": ["a"], "at": "at", "time": "t", "value": "v", "half_life": timedelta(hours=5)}
    one = asof_decayed(keys, events, name="d", **kwargs)
    other = asof_decayed(
        keys, events.sample(fraction=1.0, shuffle=True, seed=1), name="d", **kwargs
    )
    assert one.equals(other)  # bit for bit

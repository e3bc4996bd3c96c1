"""The window machinery against a brute-force oracle: every row, every window, loops and masks."""

from __future__ import annotations

from datetime import timedelta

import numpy as np
import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from features.fraud import rolling
from features.fraud import windows as win
from features.fraud.lookups import distinct_in_windows, last_before, previous_time
from features.fraud.rolling import window_aggregates

US = timedelta(microseconds=1)
SPANS = {"a": 3 * US, "b": 10 * US, "all": None}


def _events(seed: int, n: int, *, entities: int = 4, horizon: int = 40) -> pl.DataFrame:
    """Small streams with many ties (times drawn from a short range), in no particular order."""
    rng = np.random.default_rng(seed)
    return pl.DataFrame(
        {
            "k": rng.choice(["x", "y", "z", "w"][:entities], n),
            "t": rng.integers(0, horizon, n),
            "v": rng.integers(-5, 20, n),
            "f": rng.normal(size=n),
            "o": rng.integers(0, 3, n),
            "known": pl.Series(rng.integers(0, horizon + 10, n)).set(
                pl.Series(rng.random(n) < 0.2), None
            ),
        }
    ).with_columns(pl.col("known").clip(lower_bound=pl.col("t")))


def _mask(ev: pl.DataFrame, i: int, *, key: object, t: int, current: str, own: bool) -> np.ndarray:
    """Rows "up to t" for a query at (key, t); ``own``: the query is row i itself."""
    k, tt = ev["k"].to_numpy(), ev["t"].to_numpy()
    idx = np.arange(ev.height)
    same = k == key
    if not own:
        return same & ((tt < t) if current == "exclude" else (tt <= t))
    if current == "peers":
        return same & (tt <= t)
    # (time, input) order: earlier times, then earlier rows at the same time (and itself)
    before = (tt < t) | ((tt == t) & ((idx <= i) if current == "include" else (idx < i)))
    return same & before


def _oracle(
    ev: pl.DataFrame, queries: pl.DataFrame | None, *, delay: int, current: str, known: bool
) -> dict[str, list]:
    own = queries is None
    q = ev if own else queries
    tt = ev["t"].to_numpy()
    known_at = ev["known"].to_numpy()
    out: dict[str, list] = {f"{m}_{w}": [] for w in SPANS for m in ("n", "v", "f")}
    for i in range(q.height):
        key, t = q["k"][i], q["t"][i]
        if known:
            as_of = t - 1 if current == "exclude" else t
            m = (ev["k"].to_numpy() == key) & (tt <= as_of - delay)
            m &= ev["known"].is_not_null().to_numpy() & (np.nan_to_num(known_at, nan=1e18) <= as_of)
            right = as_of
        elif delay:
            m = (ev["k"].to_numpy() == key) & (tt <= t - delay)
            m &= (tt < t - delay) if (current == "exclude" and not own) else True
            right = t
        else:
            m = _mask(ev, i, key=key, t=t, current=current, own=own)
            right = t
        for w, span in SPANS.items():
            mw = m if span is None else m & (tt > right - delay - span // US)
            out[f"n_{w}"].append(int(mw.sum()))
            out[f"v_{w}"].append(int(ev["v"].to_numpy()[mw].sum()))
            out[f"f_{w}"].append(float(ev["f"].to_numpy()[mw].sum()))
    return out


def _check(got: pl.DataFrame, want: dict[str, list]) -> None:
    for name, values in want.items():
        if name.startswith("f_"):
            np.testing.assert_allclose(got[name].to_numpy(), values, atol=1e-9)
        else:
            assert got[name].to_list() == values, name


@settings(max_examples=60, deadline=None)
@given(
    seed=st.integers(0, 10_000),
    n=st.integers(0, 40),
    delay=st.sampled_from([0, 0, 2, 5]),
    current=st.sampled_from(["include", "exclude", "peers"]),
    explicit=st.booleans(),
    known=st.booleans(),
)
def test_window_aggregates_match_brute_force(
    seed: int, n: int, delay: int, current: str, explicit: bool, known: bool
) -> None:
    ev = _events(seed, n)
    queries = _events(seed + 1, 15, entities=4).select("k", "t") if explicit else None
    if queries is not None:  # and an entity without events
        queries = pl.concat([queries, pl.DataFrame({"k": ["nobody"], "t": [5]})])
    got = window_aggregates(
        ev,
        by="k",
        at="t",
        windows=SPANS,
        sums=["v", "f"],
        queries=queries,
        delay=delay * US,
        known_at="known" if known else None,
        current=current,  # type: ignore[arg-type]
    )
    _check(got, _oracle(ev, queries, delay=delay, current=current, known=known))


def test_sums_keep_their_type_and_decimals_sum_exactly() -> None:
    ev = pl.DataFrame({"k": [1, 1, 2], "t": [0, 1, 1], "m": ["0.1", "0.2", "0.3"]}).with_columns(
        pl.col("m").cast(pl.Decimal(18, 4)), v=pl.Series([1, 2, 3])
    )
    got = window_aggregates(ev, by="k", at="t", windows={"all": None}, sums=["m", "v"])
    assert got.schema == {"n_all": pl.Int64, "m_all": pl.Float64, "v_all": pl.Int64}
    assert got["m_all"].to_list() == [0.1, 0.3, 0.3]  # exact: summed as scaled integers


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 10_000), n=st.integers(0, 40), explicit=st.booleans())
def test_distinct_in_windows_match_brute_force(seed: int, n: int, explicit: bool) -> None:
    ev = _events(seed, n)
    queries = _events(seed + 7, 12).select("k", "t") if explicit else None
    got = distinct_in_windows(ev, by="k", of="o", at="t", windows=SPANS, queries=queries)
    q = ev if queries is None else queries
    tt, kk, oo = ev["t"].to_numpy(), ev["k"].to_numpy(), ev["o"].to_numpy()
    for w, span in SPANS.items():
        want = []
        for key, t in zip(q["k"], q["t"], strict=True):
            m = (kk == key) & (tt <= t) & (True if span is None else tt > t - span // US)
            want.append(len(set(oo[m].tolist())))
        assert got[w].to_list() == want, w


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 10_000), n=st.integers(0, 40), strict=st.booleans())
def test_last_before_and_previous_time_match_brute_force(seed: int, n: int, strict: bool) -> None:
    ev = _events(seed, n).with_row_index("row")
    queries = _events(seed + 3, 12).select("k", "t")
    got = last_before(ev, queries, by="k", at="t", columns=["row"], strict=strict)["row"]
    kk, tt = ev["k"].to_numpy(), ev["t"].to_numpy()
    for (key, t), row in zip(queries.iter_rows(), got, strict=True):
        m = np.flatnonzero((kk == key) & ((tt < t) if strict else (tt <= t)))
        # the latest time, and among rows at that time the last in input order
        want = None if m.size == 0 else int(m[tt[m] == tt[m].max()][-1])
        assert row == want
    prev = previous_time(ev, by=["k", "o"], at="t").to_list()
    oo = ev["o"].to_numpy()
    for i in range(ev.height):
        m = (kk == kk[i]) & (oo == oo[i]) & ((tt < tt[i]) | ((tt == tt[i]) & (np.arange(n) < i)))
        earlier = np.flatnonzero(m)
        want = None if earlier.size == 0 else int(tt[earlier].max())
        assert prev[i] == want


def test_rank_space_fallback_gives_the_same_results(monkeypatch: pytest.MonkeyPatch) -> None:
    """Entities x time spans too large for int64 keys: the stream searches in rank space."""
    ev = _events(3, 300, horizon=1000)
    queries = _events(4, 50, horizon=1000).select("k", "t")
    args = dict(by="k", at="t", windows=SPANS, sums=["v", "f"], delay=2 * US)
    direct = window_aggregates(ev, **args, queries=queries)  # type: ignore[arg-type]
    monkeypatch.setattr(win, "_KEY_LIMIT", 0)
    assert win.Stream(np.array([0, 1]), np.array([5, 9]))._ranks is not None
    ranked = window_aggregates(ev, **args, queries=queries)  # type: ignore[arg-type]
    assert ranked.equals(direct)


def test_sorted_needles_search_in_chunks_like_searchsorted(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(win, "_CHUNK", 7)
    rng = np.random.default_rng(0)
    hay = np.sort(rng.integers(0, 500, 400))
    for needles in (np.sort(rng.integers(-10, 510, 333)), rng.integers(-10, 510, 333)):
        assert (win.search(hay, needles) == np.searchsorted(hay, needles, side="right")).all()


def test_float_sums_of_a_row_never_depend_on_other_rows() -> None:
    """Running float sums restart per entity: more rows elsewhere, or later, change no bit."""
    rng = np.random.default_rng(1)
    ev = pl.DataFrame(
        {"k": rng.integers(0, 3, 500), "t": np.arange(500), "f": rng.normal(size=500) * 1e6}
    )
    more = pl.concat(
        [
            ev,
            pl.DataFrame(
                {
                    "k": rng.integers(0, 9, 500),
                    "t": np.arange(500, 1000),
                    "f": rng.normal(size=500) * 1e9,
                }
            ),
        ]
    )
    small = window_aggregates(ev, by="k", at="t", windows=SPANS, sums=["f"])
    large = window_aggregates(more, by="k", at="t", windows=SPANS, sums=["f"]).head(500)
    assert small.equals(large)


def test_rejects_an_unknown_tie_rule() -> None:
    with pytest.raises(ValueError, match="current"):
        window_aggregates(_events(0, 3), by="k", at="t", current="sometimes")  # type: ignore[arg-type]


@pytest.mark.parametrize("current", ["include", "exclude", "peers"])
@pytest.mark.parametrize("delay", [0, 3])
def test_entity_chunks_give_the_same_results(
    monkeypatch: pytest.MonkeyPatch, current: str, delay: int
) -> None:
    """Large inputs go through in groups of whole entities; tiny chunks must change nothing."""
    rng = np.random.default_rng(7)
    ev = pl.DataFrame(
        {
            "k": rng.integers(0, 40, 3000),
            "t": np.sort(rng.integers(0, 500, 3000)),
            "v": rng.integers(0, 9, 3000),
            "f": rng.normal(size=3000),
        }
    )
    args = dict(by="k", at="t", windows=SPANS, sums=["v", "f"], current=current, delay=delay * US)
    whole = window_aggregates(ev, **args)  # type: ignore[arg-type]
    monkeypatch.setattr(rolling, "_CHUNK_ROWS", 100)
    assert window_aggregates(ev, **args).equals(whole)  # type: ignore[arg-type]

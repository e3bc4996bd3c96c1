"""The search ranker on synthetic searches: it learns, its policy removes and demotes, and the
released form (``serving.search``) scores exactly as ``predict`` does."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import polars as pl
import pytest

from features.search import SEARCH_FEATURES
from models.feed.ndcg import mean_ndcg
from models.search import SearchRanker, newest_scores, relevance_scores
from serving.search import Candidate, load, publish, score


def _searches(n: int, *, seed: int) -> pl.DataFrame:
    """Ten listings a search; the order goes to high text match from a trusted seller."""
    rng = np.random.default_rng(seed)
    rows = n * 10
    frame = {f: rng.random(rows) for f in SEARCH_FEATURES}
    frame["seller_flagged"] = (rng.random(rows) < 0.05).astype(float)
    frame["seller_fraud_risk"] = np.full(rows, np.nan)
    frame["search_position"] = np.tile(np.arange(10.0), n)
    utility = 3 * frame["text_match"] + 2 * frame["seller_trust"] + rng.normal(0, 0.3, rows)
    group = np.repeat(np.arange(n), 10)
    best = pl.DataFrame({"g": group, "u": utility}).select(
        (pl.col("u") == pl.col("u").max().over("g")).cast(pl.Int8)
    )
    return pl.DataFrame(frame).with_columns(
        group_id=pl.Series(group),
        label=best.to_series(),
        seller_id=pl.Series([f"s{i % 37}" for i in range(rows)]),
        category=pl.lit("tools"),
        currency=pl.lit("EUR"),
    )


def test_ranker_learns_relevance_and_trust_and_beats_the_baselines() -> None:
    ranker = SearchRanker(n_estimators=200).fit(
        _searches(400, seed=1), eval_set=_searches(100, seed=2)
    )
    test = _searches(200, seed=3)
    group, labels = test.get_column("group_id").to_numpy(), test.get_column("label").to_numpy()
    finite = np.where(np.isfinite(ranker.predict(test)), ranker.predict(test), -1e9)
    model = mean_ndcg(group, finite, labels=labels)
    assert model > mean_ndcg(group, relevance_scores(test), labels=labels) + 0.05
    assert model > mean_ndcg(group, newest_scores(test), labels=labels) + 0.2
    shift = ranker.policy_shift(test)
    flagged = test.get_column("seller_flagged").to_numpy() == 1.0
    assert np.all(np.isneginf(shift[flagged]))
    low = ~flagged & (test.get_column("seller_trust").to_numpy() < 0.05)
    assert np.allclose(shift[low], math.log(0.1)) and np.all(shift[~flagged & ~low] == 0.0)


def test_released_ranker_scores_like_predict(tmp_path: Path) -> None:
    ranker = SearchRanker(n_estimators=30).fit(_searches(100, seed=4))
    test = _searches(3, seed=5).with_columns(
        price_ratio=pl.lit(1.0), seller_flagged=pl.Series([1.0] + [0.0] * 29)
    )
    seller_cols = [f for f in SEARCH_FEATURES if f.startswith("seller_")]
    # One seller per row here, so the seller table can hold each row's seller features.
    test = test.with_columns(seller_id=pl.Series([f"s{i}" for i in range(30)]))
    publish(
        tmp_path,
        version="3",
        model_text=ranker.model_text(),
        meta={
            "features": list(ranker.features),
            "medians": [{"category": "tools", "currency": "EUR", "median": 10.0}],
            "policy": {"min_trust": 0.05, "max_fraud_risk": 0.5, "demotion": ranker.demotion},
        },
        sellers=test.select("seller_id", *seller_cols),
    )
    release = load(tmp_path)
    assert release is not None and release.version == "3"
    online = score(
        release,
        [
            Candidate(
                listing_id=str(i),
                seller_id=r["seller_id"],
                text_match=r["text_match"],
                distance_km=r["distance_km"],
                listing_age_days=r["listing_age_days"],
                price=10.0,
                category="tools",
                currency="EUR",
                item_new=r["item_new"] == 1.0,
            )
            for i, r in enumerate(test.with_columns(item_new=pl.lit(1.0)).iter_rows(named=True))
        ],
    )
    offline = ranker.predict(test.with_columns(item_new=pl.lit(1.0)))
    assert online[0] == -math.inf
    assert np.allclose(online[1:], offline[1:])


def test_no_release_or_a_broken_one_loads_as_none(tmp_path: Path) -> None:
    assert load(tmp_path) is None
    (tmp_path / "current.json").write_text('{"folder": "v9"}')
    assert load(tmp_path) is None


def test_ranker_refuses_searches_without_any_order() -> None:
    none = _searches(5, seed=6).with_columns(label=pl.lit(0, pl.Int8))
    with pytest.raises(ValueError, match="no training search"):
        SearchRanker().fit(none)

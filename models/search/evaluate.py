"""How good the search ranker is: NDCG@k on later days against relevance-only and newest-first.

Protocol as the feed's (``models.feed.evaluate``): searches of earlier days train the model,
the next days early-stop it, the last days test it; every ordering ranks the same test searches
and is scored on the same observed labels (orders placed from the search):

- ``model``: ``SearchRanker.predict``, trust policy included (``model_without_policy``: raw);
- ``relevance``: text match, then distance, then newest (the core API's fallback);
- ``newest``: newest listing first;
- ``random``: the expected NDCG of a random order.

The searches served by relevance favour the relevance order (what was on top got the orders,
partly for being on top); the pages of the exploration share were shuffled, so on them no
ordering is favoured: ``shuffled_searches`` is the fair comparison.

With the simulator's ground truth (evaluation only), each ordering's share of top-3 slots that go
to listings of fraudulent sellers, over the test searches.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl
from numpy.typing import NDArray

from features.lake import EventSource, utc
from features.search import LABEL_WINDOW, load_inputs, search_groups
from models.feed.evaluate import Windows, compare
from models.search.ranker import SearchRanker

Scores = Mapping[str, NDArray[np.float64]]


def window_groups(
    source: EventSource,
    window: tuple[datetime, datetime],
    *,
    trust: pl.DataFrame | None,
    risk: pl.DataFrame | None = None,
) -> pl.DataFrame:
    end = utc(window[1])
    inputs = load_inputs(source, before=end, labels_until=end + LABEL_WINDOW)
    return search_groups(inputs, start=window[0], trust=trust, risk=risk)


def relevance_scores(frame: pl.DataFrame) -> NDArray[np.float64]:
    """Minus the rank by (text match desc, distance asc, newest first) within each search."""
    keyed = frame.select(
        "group_id",
        tm=-pl.col("text_match").fill_null(0.0),
        far=pl.col("distance_km").fill_null(0.0),
        age=pl.col("listing_age_days").fill_null(0.0),
    ).with_row_index("_row")
    ranked = keyed.sort("group_id", "tm", "far", "age").with_columns(
        _rank=pl.int_range(pl.len()).over("group_id")
    )
    return -ranked.sort("_row").get_column("_rank").to_numpy().astype(np.float64)


def newest_scores(frame: pl.DataFrame) -> NDArray[np.float64]:
    return -frame.get_column("listing_age_days").fill_null(0.0).to_numpy().astype(np.float64)


def fraud_in_top(
    frame: pl.DataFrame, scores: Scores, *, truth: Path, top: int = 3
) -> dict[str, float]:
    """Per ordering: the share of the top-``top`` slots of the test searches (removed listings
    take no slot) held by listings whose seller the ground truth calls fraudulent."""
    users = pl.read_parquet(truth / "users.parquet", columns=["user_id", "is_fraud"])
    fraud = (
        frame.select("seller_id")
        .join(users.rename({"user_id": "seller_id"}), on="seller_id", how="left")
        .get_column("is_fraud")
        .fill_null(False)
        .to_numpy()
    )
    group = frame.get_column("group_id").to_numpy()
    out = {}
    for name, s in scores.items():
        ranked = pl.DataFrame({"g": group, "s": s, "f": fraud}).filter(pl.col("s") > -np.inf)
        ranked = ranked.with_columns(
            r=pl.col("s").rank("ordinal", descending=True).over("g")
        ).filter(pl.col("r") <= top)
        share = ranked.get_column("f").cast(pl.Float64).mean()
        out[name] = round(float(share) if isinstance(share, float) else 0.0, 4)
    return out


def evaluate_ranker(
    ranker: SearchRanker, frame: pl.DataFrame, *, truth: Path | None, k: int = 10
) -> dict[str, Any]:
    scores = {
        "model": ranker.predict(frame),
        "relevance": relevance_scores(frame),
        "newest": newest_scores(frame),
        "random": np.zeros(frame.height),
        "model_without_policy": ranker.predict_raw(frame),
    }
    finite = {n: np.where(np.isfinite(s), s, -1e9) for n, s in scores.items()}
    report = _ratios(compare(frame, finite, k=k), k=k)
    # Shuffled pages (the exploration share): position bias there is independent of every
    # ordering, so no ordering is favoured for being the one that was served.
    shuffled = (frame.get_column("served") == "shuffled").to_numpy()
    if shuffled.any():
        part = frame.filter(pl.Series(shuffled))
        mine = {n: s[shuffled] for n, s in finite.items()}
        report["shuffled_searches"] = _ratios(compare(part, mine, k=k), k=k)
    if truth is not None:
        ranked = {n: s for n, s in scores.items() if n != "random"}  # ties: no order to count
        report["fraud_share_top3"] = fraud_in_top(frame, ranked, truth=truth)
    return report


def _ratios(report: dict[str, Any], *, k: int) -> dict[str, Any]:
    ndcg = report[f"ndcg_at_{k}"]
    for base in ("relevance", "newest"):
        report[f"ratio_model_to_{base}"] = round(ndcg["model"] / ndcg[base], 4)
    return report


def fit_and_evaluate(
    source: EventSource,
    *,
    windows: Windows,
    trust: pl.DataFrame | None,
    risk: pl.DataFrame | None = None,
    truth: Path | None = None,
    ranker: SearchRanker | None = None,
) -> tuple[SearchRanker, dict[str, Any], dict[str, pl.DataFrame]]:
    frames = {
        name: window_groups(source, getattr(windows, name), trust=trust, risk=risk)
        for name in ("train", "valid", "test")
    }
    ranker = ranker if ranker is not None else SearchRanker()
    ranker.fit(frames["train"], eval_set=frames["valid"])
    report = evaluate_ranker(ranker, frames["test"], truth=truth, k=ranker.k)
    report["windows"] = {
        name: {
            "from": str(getattr(windows, name)[0]),
            "to": str(getattr(windows, name)[1]),
            "rows": frames[name].height,
            "searches": frames[name].get_column("group_id").n_unique(),
            "orders": int(frames[name].get_column("label").sum()),
        }
        for name in ("train", "valid", "test")
    }
    report["model"] = {
        "train_groups_used": ranker.n_train_groups_,
        "valid_groups_used": ranker.n_valid_groups_,
        "best_iteration": ranker.best_iteration_,
    }
    return ranker, report, frames

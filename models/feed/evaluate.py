"""How good the feed ranker is: NDCG@k on a later window, against baselines and the oracle.

Protocol: feeds served on earlier days train the model, the next days early-stop it, the last
days test it. Every method ranks the same test groups and is scored on the same observed graded
labels (gain ``2^label - 1``):

- ``model``: ``FeedRanker.predict``, trust policy included (``model_without_policy``: raw);
- ``chronological``: newest post first;
- ``popularity``: most likes + comments + shares so far, as known at the request;
- ``oracle``: the simulator's true relevance, interest(viewer, topic) x quality(post), read from
  the ground truth (evaluation only, never a feature): the best a model knowing the truth could
  do on these labels;
- ``random``: the expected NDCG of a random order (every score tied; exact, see ``ndcg``).

NDCG is undefined for a group without a positive label (its ideal DCG is 0) and trivially 1 for
every method on a single-candidate group: both are left out and counted.
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl
from numpy.typing import NDArray

from features.feed.history import history_features
from features.feed.inputs import load_inputs
from features.feed.training import LABEL_WINDOW, labelled_groups
from features.lake import EventSource, utc
from models.feed.ndcg import ndcg_per_group
from models.feed.ranker import FeedRanker

Scores = Mapping[str, NDArray[np.float64]]


@dataclass(frozen=True)
class Windows:
    """Half-open [start, end) request-time windows, in time order."""

    train: tuple[datetime, datetime]
    valid: tuple[datetime, datetime]
    test: tuple[datetime, datetime]

    @classmethod
    def by_days(
        cls, start: datetime, *, train_days: int, valid_days: int, test_days: int
    ) -> Windows:
        day = timedelta(days=1)
        a = utc(start)
        b, c = a + train_days * day, a + (train_days + valid_days) * day
        return cls(train=(a, b), valid=(b, c), test=(c, c + test_days * day))


def window_groups(
    source: EventSource, window: tuple[datetime, datetime], *, trust: pl.DataFrame | None
) -> pl.DataFrame:
    """Labelled candidate groups of feeds served in ``window`` with every ranker feature: one
    read of the lake, then labels and features, then the history features."""
    end = utc(window[1])
    inputs = load_inputs(source, before=end, labels_until=end + LABEL_WINDOW)
    groups = labelled_groups(inputs, start=window[0], trust=trust)
    return history_features(groups, inputs, trust=trust)


def chronological_scores(frame: pl.DataFrame) -> NDArray[np.float64]:
    # A post created after the request (null age) is as new as it gets.
    return -frame.get_column("post_age_s").fill_null(0.0).to_numpy().astype(np.float64)


def popularity_scores(frame: pl.DataFrame) -> NDArray[np.float64]:
    done = frame.select(pl.sum_horizontal("post_likes", "post_comments", "post_shares"))
    return done.to_series().to_numpy().astype(np.float64)


def oracle_scores(frame: pl.DataFrame, truth: Path) -> NDArray[np.float64]:
    """interest(viewer, topic of the post) x quality(post) from the simulator's ground truth."""
    topics = json.loads((truth / "manifest.json").read_text())["topics"]
    users = pl.read_parquet(truth / "users.parquet", columns=["user_id", "interests"])
    posts = pl.read_parquet(truth / "posts.parquet", columns=["post_id", "topic", "quality"])
    index = {t: i for i, t in enumerate(topics)}
    joined = (
        frame.select("viewer_id", "post_id")
        .join(
            users.rename({"user_id": "viewer_id"}),
            on="viewer_id",
            how="left",
            maintain_order="left",
        )
        .join(posts.rename({"topic": "_topic"}), on="post_id", how="left", maintain_order="left")
        .with_columns(
            _ti=pl.col("_topic").replace_strict(index, default=None, return_dtype=pl.Int64)
        )
    )
    relevance = pl.col("interests").list.get(pl.col("_ti"), null_on_oob=True) * pl.col("quality")
    return joined.select(relevance.fill_null(0.0)).to_series().to_numpy().astype(np.float64)


def honest_viewers(frame: pl.DataFrame, truth: Path) -> NDArray[np.bool_]:
    """Rows whose viewer the ground truth calls honest (for a breakdown, never for training)."""
    users = pl.read_parquet(truth / "users.parquet", columns=["user_id", "is_fraud"])
    fraud = frame.select(viewer_id="viewer_id").join(
        users.rename({"user_id": "viewer_id"}), on="viewer_id", how="left", maintain_order="left"
    )
    return ~fraud.get_column("is_fraud").fill_null(False).to_numpy()


def compare(
    frame: pl.DataFrame, scores: Scores, *, k: int = 10, min_candidates: int = 2
) -> dict[str, Any]:
    """Mean NDCG@k of every method over the groups where a ranking can differ (at least
    ``min_candidates`` candidates and one positive label), and how many groups were left out."""
    group = frame.get_column("group_id").to_numpy()
    labels = frame.get_column("label").to_numpy()
    _, sizes = np.unique(group, return_counts=True)
    result: dict[str, Any] = {f"ndcg_at_{k}": {}}
    evaluated = None
    for name, s in scores.items():
        per = ndcg_per_group(group, s, labels=labels, k=k)
        if evaluated is None:
            defined = np.isfinite(per)
            evaluated = defined & (sizes >= min_candidates)
            result["groups"] = {
                "total": int(sizes.size),
                "evaluated": int(evaluated.sum()),
                "no_positive_label": int((~defined).sum()),
                "fewer_candidates": int((defined & ~evaluated).sum()),
            }
        result[f"ndcg_at_{k}"][name] = round(float(per[evaluated].mean()), 4)
    ndcg = result[f"ndcg_at_{k}"]
    if {"model", "oracle"} <= ndcg.keys():
        result["ratio_model_to_oracle"] = round(ndcg["model"] / ndcg["oracle"], 4)
    if {"model", "oracle", "random"} <= ndcg.keys():
        result["lift_captured"] = round(
            (ndcg["model"] - ndcg["random"]) / (ndcg["oracle"] - ndcg["random"]), 4
        )
    return result


def evaluate_ranker(
    ranker: FeedRanker,
    frame: pl.DataFrame,
    *,
    truth: Path | None,
    k: int = 10,
    min_candidates: int = 2,
) -> dict[str, Any]:
    """``compare`` of the model, its raw scores, the baselines and (with the simulator's
    ``truth``) the oracle on ``frame``, for every viewer and for the ones the truth calls honest.
    A real platform has no truth: then there is no oracle and no honest-viewer breakdown."""
    scores = {
        "model": ranker.predict(frame),
        "chronological": chronological_scores(frame),
        "popularity": popularity_scores(frame),
        "random": np.zeros(frame.height),
        "model_without_policy": ranker.predict_raw(frame),
    }
    if truth is not None:
        scores["oracle"] = oracle_scores(frame, truth)
    report = compare(frame, scores, k=k, min_candidates=min_candidates)
    if truth is None:
        return report
    honest = honest_viewers(frame, truth)
    mine = {name: s[honest] for name, s in scores.items()}
    report["honest_viewers"] = compare(
        frame.filter(pl.Series(honest)), mine, k=k, min_candidates=min_candidates
    )
    return report


def train_and_evaluate(
    source: EventSource,
    *,
    truth: Path | None,
    windows: Windows,
    trust: pl.DataFrame | None,
    ranker: FeedRanker | None = None,
    k: int = 10,
) -> tuple[FeedRanker, dict[str, Any]]:
    """Build the three windows' groups, fit on train (early-stopped on valid), report on test."""
    started = time.perf_counter()
    frames = {
        name: window_groups(source, getattr(windows, name), trust=trust)
        for name in ("train", "valid", "test")
    }
    built = time.perf_counter()
    ranker = ranker if ranker is not None else FeedRanker(k=k)
    ranker.fit(frames["train"], eval_set=frames["valid"])
    fitted = time.perf_counter()
    report = evaluate_ranker(ranker, frames["test"], truth=truth, k=k)
    report["windows"] = {
        name: {
            "from": str(w[0]),
            "to": str(w[1]),
            "rows": frames[name].height,
            "groups": frames[name].get_column("group_id").n_unique(),
        }
        for name, w in (("train", windows.train), ("valid", windows.valid), ("test", windows.test))
    }
    report["model"] = {
        "train_groups_used": ranker.n_train_groups_,
        "valid_groups_used": ranker.n_valid_groups_,
        "best_iteration": ranker.best_iteration_,
    }
    report["seconds"] = {
        "groups": round(built - started, 1),
        "fit": round(fitted - built, 1),
        "evaluate": round(time.perf_counter() - fitted, 1),
    }
    return ranker, report

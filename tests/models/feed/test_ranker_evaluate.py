"""Baselines, the oracle from a ground-truth directory, and the group accounting of compare."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import polars as pl
import pytest

from models.feed.evaluate import (
    chronological_scores,
    compare,
    honest_viewers,
    oracle_scores,
    popularity_scores,
)

FRAME = pl.DataFrame(
    {  # group 0: three candidates; group 1: no positive; group 2: a single candidate
        "group_id": [0, 0, 0, 1, 1, 2],
        "viewer_id": ["v", "v", "v", "w", "w", "v"],
        "post_id": ["a", "b", "c", "a", "b", "zzz"],
        "label": [0, 2, 1, 0, 0, 1],
        "post_age_s": [60.0, 3600.0, None, 5.0, 50.0, 1.0],
        "post_likes": [1, 5, 0, 1, 5, 0],
        "post_comments": [0, 1, 0, 0, 1, 0],
        "post_shares": [3, 0, 0, 3, 0, 0],
    }
)


@pytest.fixture()
def truth(tmp_path: Path) -> Path:
    (tmp_path / "manifest.json").write_text(json.dumps({"topics": ["pets", "tech"]}))
    pl.DataFrame(
        {"user_id": ["v", "w"], "interests": [[0.9, 0.1], [0.2, 0.8]], "is_fraud": [False, True]}
    ).write_parquet(tmp_path / "users.parquet")
    pl.DataFrame(
        {"post_id": ["a", "b", "c"], "topic": ["pets", "tech", "pets"], "quality": [0.5, 0.9, 0.2]}
    ).write_parquet(tmp_path / "posts.parquet")
    return tmp_path


def test_oracle_is_interest_times_quality_in_row_order(truth: Path) -> None:
    got = oracle_scores(FRAME, truth)
    # Unknown posts score 0: the oracle knows nothing better about them.
    assert got == pytest.approx([0.45, 0.09, 0.18, 0.1, 0.72, 0.0])
    assert honest_viewers(FRAME, truth).tolist() == [True, True, True, False, False, True]


def test_baselines() -> None:
    # Newest first; a post created after the request (null age) counts as the newest.
    assert chronological_scores(FRAME)[:3].tolist() == [-60.0, -3600.0, -0.0]
    assert popularity_scores(FRAME)[:3].tolist() == [4.0, 6.0, 0.0]


def test_compare_counts_the_groups_it_leaves_out(truth: Path) -> None:
    scores = {"oracle": oracle_scores(FRAME, truth), "random": np.zeros(FRAME.height)}
    scores["model"] = FRAME["label"].cast(pl.Float64).to_numpy()  # a perfect ranking
    report = compare(FRAME, scores)
    assert report["groups"] == {
        "total": 3,
        "evaluated": 1,
        "no_positive_label": 1,
        "fewer_candidates": 1,
    }
    ndcg = report["ndcg_at_10"]
    assert ndcg["model"] == 1.0
    assert ndcg["oracle"] < 1.0  # the oracle ranks a above the liked c: labels are noisy
    lift = (ndcg["model"] - ndcg["random"]) / (ndcg["oracle"] - ndcg["random"])
    assert report["lift_captured"] == pytest.approx(lift, abs=1e-4)
    assert report["ratio_model_to_oracle"] == pytest.approx(1.0 / ndcg["oracle"], abs=1e-4)

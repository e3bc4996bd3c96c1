"""What the feed and search rankers share: group runs, the refusal to fit on nothing, the
demotion a release publishes, and the metrics a release logs."""

from __future__ import annotations

import math

import numpy as np
import polars as pl
import pytest

from models.feed.ranker import FeedRanker
from models.lambdarank.ranker import NothingToLearn, feature_matrix, group_sizes
from models.lambdarank.release import report_metrics
from models.search.ranker import NoSearchesToLearn, SearchRanker


def test_group_sizes_follow_runs_and_refuse_interleaved_groups() -> None:
    assert group_sizes([5, 5, 7, 7, 7, 2]).tolist() == [2, 3, 1]
    assert group_sizes([]).tolist() == []
    with pytest.raises(ValueError, match="ordered by group"):
        group_sizes([1, 1, 2, 1])


def test_feature_matrix_names_the_missing_columns() -> None:
    frame = pl.DataFrame({"a": [1, 2], "b": [0.5, None]})
    assert feature_matrix(frame, ("b", "a")).tolist()[0] == [0.5, 1.0]
    with pytest.raises(KeyError, match="'c'"):
        feature_matrix(frame, ("a", "c"))


def _no_positive() -> pl.DataFrame:
    return pl.DataFrame({"group_id": [0, 0, 1, 1], "x": [0.1, 0.2, 0.3, 0.4], "label": [0] * 4})


def test_each_ranker_refuses_to_fit_on_groups_without_a_positive() -> None:
    with pytest.raises(NothingToLearn, match="no training group"):
        FeedRanker(features=("x",), min_viewer_trust=None).fit(_no_positive())
    with pytest.raises(NoSearchesToLearn, match="no training search"):
        SearchRanker(features=("x",)).fit(_no_positive())
    assert issubclass(NoSearchesToLearn, NothingToLearn)


@pytest.mark.parametrize("factor", [0.1, 0.25, 0.0])
def test_demotion_is_the_feed_policy_shift_of_a_low_trust_author(factor: float) -> None:
    ranker = FeedRanker(low_trust_factor=factor, sigmoid_scale=2.0)
    low = pl.DataFrame({"author_trust": [0.01], "author_flagged": [False]})
    assert ranker.policy_shift(low)[0] == ranker.demotion
    expected = -math.inf if factor == 0 else math.log(factor) / 2.0
    assert SearchRanker(low_trust_factor=factor, sigmoid_scale=2.0).demotion == expected


def test_report_metrics_are_ndcg_and_group_counts() -> None:
    report = {
        "ndcg_at_5": {"model": 0.5, "random": 0.25},
        "groups": {"total": 10, "evaluated": 7},
        "ratio_model_to_random": 2.0,
    }
    assert report_metrics(report, k=5) == {
        "ndcg_model": 0.5,
        "ndcg_random": 0.25,
        "groups_total": 10.0,
        "groups_evaluated": 7.0,
    }
    assert np.isnan(report_metrics({**report, "groups": {"x": np.nan}}, k=5)["groups_x"])

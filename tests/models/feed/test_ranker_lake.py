"""End to end on the small simulated lake: trust snapshots, three windows, fit, report."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from features.feed.inputs import trust_snapshots
from models.feed import FeedRanker, Windows, train_and_evaluate
from tests.conftest import SmallLake


def test_train_and_evaluate_on_a_later_window(small_lake: SmallLake) -> None:
    begin = datetime.combine(small_lake.start, datetime.min.time(), UTC)
    day = timedelta(days=1)
    trust = trust_snapshots(small_lake.events, [begin + 3 * day, begin + 7 * day])
    windows = Windows.by_days(begin + 3 * day, train_days=4, valid_days=1, test_days=2)
    assert windows.train[1] == windows.valid[0] and windows.valid[1] == windows.test[0]
    ranker, report = train_and_evaluate(
        small_lake.events,
        truth=small_lake.truth,
        windows=windows,
        trust=trust,
        ranker=FeedRanker(n_estimators=300),
    )
    ndcg = report["ndcg_at_10"]
    assert {"model", "chronological", "popularity", "oracle"} <= ndcg.keys()
    assert all(0.0 < v <= 1.0 for v in ndcg.values())
    assert ndcg["model"] > ndcg["chronological"]
    assert ndcg["oracle"] > ndcg["random"]
    assert report["ratio_model_to_oracle"] == round(ndcg["model"] / ndcg["oracle"], 4)
    groups = report["groups"]
    assert groups["evaluated"] > 50
    assert (
        groups["evaluated"] + groups["no_positive_label"] + groups["fewer_candidates"]
        == groups["total"]
        == report["windows"]["test"]["groups"]
    )
    assert report["honest_viewers"]["groups"]["total"] <= groups["total"]
    assert ranker.n_train_groups_ > 0 and ranker.best_iteration_ >= 1

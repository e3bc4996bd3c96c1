"""FeedRanker on synthetic groups: it learns a planted signal, keeps groups intact, and applies
the trust policy as documented."""

from __future__ import annotations

import math

import numpy as np
import polars as pl
import pytest
from sklearn.base import clone

from models.feed.ndcg import mean_ndcg
from models.feed.ranker import FeedRanker
from models.lambdarank.ranker import group_sizes

FEATURES = ("signal", "noise", "author_trust")


def synthetic(groups: int, *, seed: int) -> pl.DataFrame:
    """Groups of 2-8 candidates whose graded label follows a hidden relevance = signal."""
    rng = np.random.default_rng(seed)
    sizes = rng.integers(2, 9, groups)
    n = int(sizes.sum())
    signal = rng.normal(size=n)
    relevance = signal + rng.normal(scale=0.5, size=n)
    label = np.digitize(relevance, [0.8, 1.4, 2.0]).astype(np.int8)
    return pl.DataFrame(
        {
            "group_id": np.repeat(np.arange(groups), sizes).astype(np.uint32),
            "signal": signal,
            "noise": rng.normal(size=n),
            "author_trust": rng.uniform(0.2, 0.9, n),
            "author_flagged": np.zeros(n, dtype=bool),
            "viewer_trust": np.repeat(rng.uniform(0.2, 0.9, groups), sizes),
            "label": label,
        }
    )


@pytest.fixture(scope="module")
def fitted() -> tuple[FeedRanker, pl.DataFrame]:
    ranker = FeedRanker(features=FEATURES, n_estimators=200, min_child_samples=20)
    ranker.fit(synthetic(600, seed=1), eval_set=synthetic(200, seed=2))
    return ranker, synthetic(400, seed=3)


def test_learns_the_planted_signal(fitted: tuple[FeedRanker, pl.DataFrame]) -> None:
    ranker, test = fitted
    group, labels = test["group_id"].to_numpy(), test["label"].to_numpy()
    model = mean_ndcg(group, ranker.predict(test), labels=labels)
    random = mean_ndcg(group, np.zeros(test.height), labels=labels)
    truth = mean_ndcg(group, test["signal"].to_numpy(), labels=labels)
    assert model > random + 0.25
    assert model > 0.95 * truth
    importance = dict(zip(ranker.features, ranker.feature_importances_, strict=True))
    assert importance["signal"] > 5 * max(importance["noise"], importance["author_trust"])


def test_fitted_attributes_and_sklearn_conventions(
    fitted: tuple[FeedRanker, pl.DataFrame],
) -> None:
    ranker, _ = fitted
    assert list(ranker.feature_names_in_) == list(FEATURES)
    assert ranker.n_features_in_ == 3
    assert 1 <= ranker.best_iteration_ <= 200
    assert "ndcg@10" in ranker.best_score_["valid"]
    assert ranker.evals_result_["valid"]["ndcg@10"]
    copy = clone(ranker)
    assert copy.get_params() == ranker.get_params()
    assert not hasattr(copy, "booster_")


def test_explicit_labels_and_sizes_match_the_frame_columns() -> None:
    train = synthetic(300, seed=4)
    sizes = group_sizes(train["group_id"])
    a = FeedRanker(features=FEATURES, n_estimators=30).fit(train)
    b = FeedRanker(features=FEATURES, n_estimators=30).fit(
        train.drop("label", "group_id"), train["label"].to_numpy(), group=sizes
    )
    assert np.allclose(a.predict_raw(train), b.predict_raw(train))
    with pytest.raises(ValueError, match="rows"):
        FeedRanker(features=FEATURES).fit(train, group=sizes[:-1])


def test_uninformative_and_low_trust_viewer_groups_are_not_trained_on() -> None:
    train = synthetic(300, seed=5)
    sizes = group_sizes(train["group_id"])
    first = np.r_[0, np.cumsum(sizes)[:-1]]
    labels = train["label"].to_numpy()
    has_positive = np.add.reduceat(labels > 0, first) > 0
    low = train["viewer_trust"].to_numpy()[first] < 0.5
    ranker = FeedRanker(features=FEATURES, n_estimators=5, min_viewer_trust=0.5).fit(train)
    assert ranker.n_train_groups_ == int((has_positive & ~low).sum())
    everyone = FeedRanker(features=FEATURES, n_estimators=5, min_viewer_trust=None).fit(train)
    assert everyone.n_train_groups_ == int(has_positive.sum())


def policy_frame() -> pl.DataFrame:
    return pl.DataFrame(
        {
            "group_id": [0, 0, 0, 0, 0],
            "signal": [0.0, 0.0, 0.0, 0.0, 0.0],
            "noise": [0.0] * 5,
            "author_trust": [0.8, 0.01, None, 0.04, 0.9],
            "author_flagged": [False, False, False, False, True],
        },
        schema_overrides={"author_trust": pl.Float64},
    )


def test_policy_removes_flagged_and_demotes_low_trust(
    fitted: tuple[FeedRanker, pl.DataFrame],
) -> None:
    ranker, _ = fitted
    frame = policy_frame()
    raw = ranker.predict_raw(frame)
    shift = ranker.predict(frame) - raw
    demote = math.log(0.1)  # defaults: min_trust 0.05, low_trust_factor 0.1, sigmoid_scale 1
    assert shift[:4] == pytest.approx([0.0, demote, 0.0, demote])  # unknown trust: not demoted
    assert shift[4] == -np.inf
    ranked = ranker.rank(frame.with_columns(post=pl.Series(["ok", "low", "new", "low2", "bad"])))
    assert ranked["post"].to_list()[:2] == ["ok", "new"]
    assert set(ranked["post"].to_list()[2:]) == {"low", "low2"}
    assert ranked["rank"].to_list() == [1, 2, 3, 4]


def test_policy_parameters(fitted: tuple[FeedRanker, pl.DataFrame]) -> None:
    ranker, _ = fitted
    frame = policy_frame()

    def shift(**params: object) -> np.ndarray:
        # The policy is a function of the parameters and the frame only, not of the booster.
        return clone(ranker).set_params(**params).policy_shift(frame)

    assert shift(flagged="keep").tolist()[4] == 0.0
    assert shift(flagged="demote")[4] == pytest.approx(math.log(0.1))
    assert shift(low_trust_factor=0.5, sigmoid_scale=2.0)[1] == pytest.approx(math.log(0.5) / 2)
    assert shift(low_trust_factor=0.0)[1] == -np.inf
    assert shift(min_trust=0.0).tolist()[:4] == [0.0, 0.0, 0.0, 0.0]

"""The anomaly ensemble: two-sided, rank-scaled, scikit-learn's conventions."""

from __future__ import annotations

import numpy as np
import pytest

from models.anomaly import MEMBERS, AnomalyEnsemble


def _data() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(5)
    x = rng.normal(size=(300, 4))
    outliers = np.array([0, 1, 2, 3])
    x[0, 0], x[1, 0] = 8.0, -8.0  # both directions of one column
    x[2, 1:3] = (6.0, -6.0)
    x[3] = 5.0
    return x, outliers


@pytest.mark.parametrize("members", [MEMBERS, ("iforest",), ("hbos",), ("knn",)])
def test_ensemble_ranks_outliers_on_either_side_at_the_top(members: tuple[str, ...]) -> None:
    x, outliers = _data()
    model = AnomalyEnsemble(members, random_state=0).fit(x)
    score = model.training_anomaly_score_
    assert set(np.argsort(-score)[:15]) >= set(outliers)  # the top 5 %
    assert score.min() >= 0.0 and score.max() <= 1.0


def test_pca_member_sees_a_broken_correlation() -> None:
    rng = np.random.default_rng(1)
    t = rng.normal(size=400)
    x = np.column_stack([t, t + rng.normal(scale=0.05, size=400), rng.normal(size=400)])
    x[0, :2] = (1.0, -1.0)  # each value ordinary, the pair impossible
    model = AnomalyEnsemble(["pca"], random_state=0).fit(x)
    assert np.argmax(model.training_anomaly_score_) == 0


def test_scikit_learn_signs_and_predict() -> None:
    x, _ = _data()
    model = AnomalyEnsemble(random_state=0, contamination=0.02).fit(x)
    fresh = np.vstack([np.zeros(4), np.full(4, 9.0)])
    assert model.score_samples(fresh)[0] > model.score_samples(fresh)[1]  # lower = abnormal
    assert model.predict(fresh).tolist() == [1, -1]
    assert (model.decision_function(x) < 0).mean() == pytest.approx(0.02, abs=0.01)
    assert set(model.member_scores(fresh)) == {"iforest", "hbos", "knn"}


def test_training_scores_leave_each_point_out_of_its_own_neighbours() -> None:
    x, _ = _data()
    model = AnomalyEnsemble(["knn"], random_state=0).fit(x)
    # Scored afresh, a training point finds itself at distance 0, so it looks more normal.
    again = model.anomaly_score(x)
    assert (again <= model.training_anomaly_score_ + 1e-12).all()


def test_unknown_members_are_refused() -> None:
    with pytest.raises(ValueError, match="members"):
        AnomalyEnsemble(["lof"]).fit(np.zeros((5, 2)))

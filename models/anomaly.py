"""An ensemble of unsupervised anomaly detectors that assumes no direction.

No single detector is best on every data set (ADBench, NeurIPS 2022), and a feature's suspicious
direction differs from one graph to the next (few neighbours here, too many there). So each member
is a two-sided outlier score (far from the bulk in any direction), members are put on one scale by
ranking them against the training data, and the ensemble averages those ranks:

- ``iforest``: IsolationForest (short isolation paths);
- ``hbos``: histogram-based outlier score (rare values, column by column; suits binary columns);
- ``knn``: mean distance to the k nearest training points (sparse regions);
- ``pca``: reconstruction error outside the main principal components (unusual combinations).

Follows scikit-learn's outlier-detector conventions: ``fit(X)``, ``score_samples(X)`` (the lower,
the more abnormal), ``decision_function`` and ``predict`` (-1 outlier, 1 inlier at the
``contamination`` share of the training data); plus ``anomaly_score(X)`` in [0, 1], higher is more
anomalous, the form a risk model wants.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from sklearn.base import BaseEstimator, OutlierMixin
from sklearn.decomposition import PCA
from sklearn.ensemble import IsolationForest
from sklearn.neighbors import NearestNeighbors
from sklearn.utils.validation import check_array, check_is_fitted

MEMBERS = ("iforest", "hbos", "knn", "pca")
# PCA's tail residual misses points that are extreme along the main components (it ranked
# swapped-attribute anomalies below normal nodes in our checks), so it is opt-in.
DEFAULT_MEMBERS = ("iforest", "hbos", "knn")


class _Hbos:
    """Histogram-based outlier score (Goldstein & Dengel 2012): sum of -log density per column."""

    def __init__(self, bins: int) -> None:
        self.bins = bins

    def fit(self, x: np.ndarray) -> _Hbos:
        self.edges_ = []
        self.log_density_ = []
        for column in x.T:
            lo, hi = float(column.min()), float(column.max())
            edges = np.linspace(lo, hi if hi > lo else lo + 1.0, self.bins + 1)
            counts, _ = np.histogram(column, bins=edges)
            # +1: a value never seen in training is rare, not impossible.
            self.log_density_.append(np.log((counts + 1.0) / (len(column) + self.bins)))
            self.edges_.append(edges)
        return self

    def score(self, x: np.ndarray) -> np.ndarray:
        out = np.zeros(len(x))
        for j, (edges, log_density) in enumerate(zip(self.edges_, self.log_density_, strict=True)):
            at = np.clip(np.searchsorted(edges, x[:, j], side="right") - 1, 0, self.bins - 1)
            out -= log_density[at]
        return out


class AnomalyEnsemble(OutlierMixin, BaseEstimator):
    """Rank-averaged ensemble of two-sided detectors (see the module docstring).

    After ``fit``: ``training_anomaly_score_`` and ``training_member_scores_`` hold the training
    rows' scores (the transductive use: score the very nodes one fitted on).
    """

    def __init__(
        self,
        members: Sequence[str] = DEFAULT_MEMBERS,
        *,
        n_estimators: int = 200,
        n_neighbors: int = 10,
        bins: int = 10,
        variance: float = 0.9,
        contamination: float = 0.05,
        random_state: int | None = None,
    ) -> None:
        self.members = members
        self.n_estimators = n_estimators
        self.n_neighbors = n_neighbors
        self.bins = bins
        self.variance = variance
        self.contamination = contamination
        self.random_state = random_state

    def _scale(self, x: np.ndarray) -> np.ndarray:
        return (x - self.center_) / self.scale_

    def fit(self, X: np.ndarray, y: None = None) -> AnomalyEnsemble:
        unknown = set(self.members) - set(MEMBERS)
        if unknown or not self.members:
            raise ValueError(f"members must be a non-empty subset of {MEMBERS}: {self.members}")
        x = check_array(X, dtype=np.float64)
        self.n_features_in_ = x.shape[1]
        self.center_ = x.mean(axis=0)
        spread = x.std(axis=0)
        self.scale_ = np.where(spread > 0, spread, 1.0)
        z = self._scale(x)
        self.detectors_: dict[str, object] = {}
        if "iforest" in self.members:
            forest = IsolationForest(n_estimators=self.n_estimators, random_state=self.random_state)
            self.detectors_["iforest"] = forest.fit(z)
        if "hbos" in self.members:
            self.detectors_["hbos"] = _Hbos(self.bins).fit(z)
        if "knn" in self.members:
            k = min(self.n_neighbors, len(z) - 1)
            self.detectors_["knn"] = NearestNeighbors(n_neighbors=max(k, 1)).fit(z)
        if "pca" in self.members:
            components = min(z.shape) - 1
            if components >= 1:
                self.detectors_["pca"] = PCA(n_components=components).fit(z)
        # Each member's training scores, sorted: new scores are ranked against them.
        raw = {name: self._raw(name, z, training=True) for name in self.detectors_}
        self.reference_ = {name: np.sort(scores) for name, scores in raw.items()}
        self.training_member_scores_ = {
            name: self._rank(name, scores) for name, scores in raw.items()
        }
        self.training_anomaly_score_ = np.mean(list(self.training_member_scores_.values()), axis=0)
        self.offset_ = float(np.quantile(-self.training_anomaly_score_, self.contamination))
        return self

    def _rank(self, name: str, raw: np.ndarray) -> np.ndarray:
        reference = self.reference_[name]
        return np.searchsorted(reference, raw, side="right") / len(reference)

    def _raw(self, name: str, z: np.ndarray, *, training: bool = False) -> np.ndarray:
        detector = self.detectors_[name]
        if isinstance(detector, IsolationForest):
            return -detector.score_samples(z)
        if isinstance(detector, _Hbos):
            return detector.score(z)
        if isinstance(detector, NearestNeighbors):
            k = detector.n_neighbors
            # On the training data a point is its own nearest neighbour: skip it.
            dist, _ = detector.kneighbors(z, n_neighbors=min(k + training, detector.n_samples_fit_))
            return dist[:, int(training) :].mean(axis=1)
        assert isinstance(detector, PCA)
        kept = int(np.searchsorted(np.cumsum(detector.explained_variance_ratio_), self.variance))
        kept = min(kept + 1, detector.n_components_)
        projected = detector.transform(z)
        # Residual: what the main components leave unexplained (tail components, whitened).
        tail = projected[:, kept:] / np.sqrt(np.maximum(detector.explained_variance_[kept:], 1e-12))
        if tail.shape[1] == 0:
            return np.zeros(len(z))
        return (tail * tail).sum(axis=1)

    def member_scores(self, X: np.ndarray) -> dict[str, np.ndarray]:
        """{member: share of training points scoring at or below X's}: 1 = most anomalous.

        For the training data itself use ``training_member_scores_``: there each point is left
        out of its own nearest neighbours, which scoring it afresh cannot know to do.
        """
        check_is_fitted(self, "reference_")
        z = self._scale(check_array(X, dtype=np.float64))
        return {name: self._rank(name, self._raw(name, z)) for name in self.reference_}

    def anomaly_score(self, X: np.ndarray) -> np.ndarray:
        """Mean of the members' ranks, in [0, 1]: higher is more anomalous."""
        return np.mean(list(self.member_scores(X).values()), axis=0)

    def score_samples(self, X: np.ndarray) -> np.ndarray:
        """scikit-learn's sign: the lower, the more abnormal."""
        return -self.anomaly_score(X)

    def decision_function(self, X: np.ndarray) -> np.ndarray:
        """Negative for outliers, positive for inliers (relative to ``contamination``)."""
        return self.score_samples(X) - self.offset_

    def predict(self, X: np.ndarray) -> np.ndarray:
        return np.where(self.decision_function(X) < 0, -1, 1)

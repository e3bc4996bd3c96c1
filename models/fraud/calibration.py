"""Maps a booster's raw score (log-odds) to a probability, fitted on held-out rows only.

``sigmoid`` (Platt scaling, the default): p = 1 / (1 + exp(-(a * margin + b))), fitted by
unpenalised logistic regression on the margin. Two parameters estimate well from the few hundred
frauds a week of labels holds, and with a > 0 the map is strictly increasing, so every ranking
(ROC AUC, average precision, a top-k review queue) is exactly the booster's.

``isotonic``: a non-decreasing step function of the margin. More flexible when the booster's
miscalibration is not a shift and scale of the log-odds, but it needs many positives per step and
its flat steps create ties, which reorder the top of a review queue arbitrarily.
"""

from __future__ import annotations

import warnings
from typing import Literal

import numpy as np
from sklearn.isotonic import IsotonicRegression
from sklearn.linear_model import LogisticRegression

Method = Literal["sigmoid", "isotonic"]
METHODS: tuple[Method, ...] = ("sigmoid", "isotonic")


class Calibrator:
    """A fitted margin -> probability map (``fit`` once, then ``transform``)."""

    def __init__(self, method: Method = "sigmoid") -> None:
        if method not in METHODS:
            raise ValueError(f"calibration must be one of {METHODS} or None, not {method!r}")
        self.method = method
        self._model: LogisticRegression | IsotonicRegression | None = None

    def fit(self, margin: np.ndarray, y: np.ndarray) -> Calibrator:
        y = np.asarray(y).astype(np.int8)
        if not 0 < y.sum() < len(y):
            raise ValueError("calibration rows must hold both classes")
        if self.method == "sigmoid":
            model = LogisticRegression(C=np.inf, solver="lbfgs", max_iter=1000)  # unpenalised
            model.fit(margin.reshape(-1, 1), y)
            if model.coef_[0, 0] <= 0:
                # A booster that ranks held-out rows backwards: the probabilities will be too.
                warnings.warn(
                    "Platt slope is not positive: the model does not rank the calibration rows",
                    RuntimeWarning,
                    stacklevel=2,
                )
            self._model = model
        else:
            iso = IsotonicRegression(y_min=0.0, y_max=1.0, out_of_bounds="clip")
            self._model = iso.fit(margin, y)
        return self

    @property
    def params(self) -> dict[str, float]:
        """Platt's slope and intercept (empty for isotonic): worth logging with the model."""
        if isinstance(self._model, LogisticRegression):
            return {
                "slope": float(self._model.coef_[0, 0]),
                "intercept": float(self._model.intercept_[0]),
            }
        return {}

    def transform(self, margin: np.ndarray) -> np.ndarray:
        if self._model is None:
            raise RuntimeError("Calibrator is not fitted")
        if isinstance(self._model, LogisticRegression):
            return self._model.predict_proba(margin.reshape(-1, 1))[:, 1]
        return self._model.predict(margin)

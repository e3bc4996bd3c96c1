"""The fraud model: a calibrated LightGBM classifier, and the outside benchmark it is held to.

- ``classifier``: ``FraudClassifier`` (scikit-learn conventions; early stopping and calibration
  on held-out rows the caller chooses; per-feature contributions for reasons);
- ``calibration``: Platt scaling (default) or isotonic regression on the booster's log-odds;
- ``protocol``: the Fraud Detection Handbook's prequential folds and known-compromised cards;
- ``handbook``: the benchmark itself, features from ``features.fraud``, selection on validation
  folds only (``vouch fraud evaluate``).
"""

from models.fraud.calibration import Calibrator
from models.fraud.classifier import FraudClassifier

__all__ = ["Calibrator", "FraudClassifier"]

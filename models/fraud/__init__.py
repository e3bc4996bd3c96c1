"""The fraud classifier: a calibrated LightGBM model (the outside benchmark is ``models.handbook``).

- ``classifier``: ``FraudClassifier`` (scikit-learn conventions; early stopping and calibration
  on held-out rows the caller chooses; per-feature contributions for reasons);
- ``calibration``: Platt scaling (default) or isotonic regression on the booster's log-odds.
"""

from models.fraud.calibration import Calibrator
from models.fraud.classifier import FraudClassifier

__all__ = ["Calibrator", "FraudClassifier"]

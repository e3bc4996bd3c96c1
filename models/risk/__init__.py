"""The platform's fraud risk: training sets from point-in-time features and observed labels, the
calibrated model, per-user scores with reasons, and the analysts' review queue.

- ``data``: rows (user, snapshot time) with features, labels as observed, and time splits;
- ``train``: fit a ``models.fraud.FraudClassifier`` and measure it (observed labels and, when the
  caller has it, ground truth);
- ``scoring``: ``user_scores`` and ``review_queue``.
"""

from models.risk.data import FEATURES, RiskData, labelled_rows, snapshot_rows, split, training_rows
from models.risk.scoring import BANDS, review_queue, user_scores
from models.risk.train import TrainedRisk, evaluate, train_risk

__all__ = [
    "BANDS",
    "FEATURES",
    "RiskData",
    "TrainedRisk",
    "evaluate",
    "labelled_rows",
    "review_queue",
    "snapshot_rows",
    "split",
    "train_risk",
    "training_rows",
    "user_scores",
]

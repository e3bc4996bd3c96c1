"""The platform's fraud risk: training rows from point-in-time features and observed labels, the
PU model with its anomaly part, per-user scores with reasons, and the analysts' review queue.

- ``data``: rows (user, snapshot time) with features as of then, a pass of snapshots at a time;
- ``labels``: what happened next as observed, how far each kind of label is believed;
- ``spill``: the rows written to Parquet a pass at a time and scanned back;
- ``pu``: ``RiskModel`` (PU LightGBM bag + IsolationForest, blended, calibrated);
- ``train``: fit it and measure it out of fold (observed labels and, when the caller has it,
  ground truth);
- ``scoring``: ``user_scores``, the rules-and-graph ``fallback_scores`` and ``review_queue``;
- ``release``: train, log, judge against the floors and the champion, register.
"""

from models.risk.data import FEATURES, snapshot_rows, training_parts, training_rows
from models.risk.labels import labelled_rows
from models.risk.pu import RiskModel
from models.risk.scoring import BANDS, review_queue, user_scores
from models.risk.train import TrainedRisk, measure, train_risk

__all__ = [
    "BANDS",
    "FEATURES",
    "RiskModel",
    "TrainedRisk",
    "labelled_rows",
    "measure",
    "review_queue",
    "snapshot_rows",
    "train_risk",
    "training_parts",
    "training_rows",
    "user_scores",
]

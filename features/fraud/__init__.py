"""Point-in-time fraud features: trailing windows, platform signals, card-transaction features.

- ``windows``: the numpy machinery (entity-keyed streams, running sums, interval sums);
- ``rolling``: trailing-window counts and sums on polars frames (per row or per query);
- ``lookups``: distinct values in trailing windows, previous and last events as of a time;
- ``encode``: the flat lake frame (``features.lake.read_flat``) in integer codes and one currency;
- ``platform`` and ``signals``: per-user platform features as of any time;
- ``takeover``: account-takeover sequences (risky login, changes, money out) as of any time;
- ``cards``: the Fraud Detection Handbook's features and richer ones on card transactions;
- ``training``: as-of joins to snapshots (trust scores, feature snapshots) and observed labels;
- ``schema``: every output column, its dtype and meaning.
"""

from features.fraud.cards import card_features, handbook_features
from features.fraud.lookups import distinct_in_windows, last_before, previous_time
from features.fraud.platform import (
    action_queries,
    platform_features,
    snapshot_queries,
    user_features,
)
from features.fraud.rolling import WINDOWS, window_aggregates
from features.fraud.schema import (
    CARD_FEATURES,
    PLATFORM_FEATURES,
    SCHEMA_VERSION,
    USER_FEATURES,
    Feature,
    problems,
)
from features.fraud.training import (
    asof_join,
    attach_trust_scores,
    label_rows,
    observed_labels,
)

__all__ = [
    "CARD_FEATURES",
    "PLATFORM_FEATURES",
    "SCHEMA_VERSION",
    "USER_FEATURES",
    "WINDOWS",
    "Feature",
    "action_queries",
    "asof_join",
    "attach_trust_scores",
    "card_features",
    "distinct_in_windows",
    "handbook_features",
    "label_rows",
    "last_before",
    "observed_labels",
    "platform_features",
    "previous_time",
    "problems",
    "snapshot_queries",
    "user_features",
    "window_aggregates",
]

"""The feature-schema contract: every table ``features`` hands to ``models`` and ``serving``.

One place to look up a column: the per-area modules define them, this module names the tables.
Each table is a tuple of :class:`features.columns.Feature` (name, dtype, meaning, nullable);
:func:`problems` checks a frame against one (the Dagster asset checks use it).
"""

from __future__ import annotations

import polars as pl

from features.columns import Feature, polars_schema, problems
from features.feed import schema as feed
from features.fraud import schema as fraud
from features.platform_graph import schema as graph

TS = pl.Datetime("us", "UTC")
F64, I64, B = pl.Float64, pl.Int64, pl.Boolean

# Per user and snapshot (features.platform_graph.trust): the trust score, its parts, its evidence.
TRUST_SCORES: tuple[Feature, ...] = (
    Feature("user_id", pl.String, "the user"),
    Feature("snapshot_at", TS, "the snapshot's time: only events before it were read"),
    Feature("trust", F64, "[0, 1], higher = more trustworthy: engine_trust * (1 - graph_risk)"),
    Feature(
        "engine_trust", F64, "[0, 1] features.trust_engine's combined score on endorsement edges"
    ),
    Feature("graph_risk", F64, "[0, 1] noisy-OR of ring density, negative in-share, sign-up burst"),
    Feature("evidence_trust", F64, "[0, 1] Beta-reputation of burst-discounted rating evidence"),
    Feature("reach", F64, "[0, 1] seeded propagation relative to the median reached user"),
    Feature("propagated_trust", F64, ">= 0 SybilRank landing probability per unit in-strength"),
    Feature("fairness", F64, "[0, 1] REV2 fairness of the user's ratings of others"),
    Feature("goodness", F64, "[-1, 1] REV2 goodness of the ratings the user received"),
    Feature("evidence_positive", F64, ">= 0 burst-discounted positive evidence"),
    Feature("evidence_negative", F64, ">= 0 burst-discounted negative evidence"),
    Feature("seed", B, "a seed of the propagation (verified, long-standing, unreported)"),
    Feature("out_degree", I64, "endorsement edges given"),
    Feature("in_degree", I64, "endorsement edges received"),
    Feature("negative_given", I64, "reports and blocks given"),
    Feature("negative_received", I64, "reports and blocks received"),
    *graph.RING_SIGNALS[1:],
    *graph.CLUSTER_SIGNALS[1:],
    *graph.NEIGHBOURHOOD_STATS[1:],
)

TABLES: dict[str, tuple[Feature, ...]] = {
    "trust_scores": TRUST_SCORES,
    "graph_edges": graph.EDGES,
    "fraud_features": fraud.USER_FEATURES + graph.NEIGHBOUR_FEATURES,
    "card_features": fraud.CARD_FEATURES,
    "feed_candidates": feed.CANDIDATE + feed.FEATURES,
    "feed_training": feed.TRAINING,
}

__all__ = ["TABLES", "TRUST_SCORES", "Feature", "polars_schema", "problems"]

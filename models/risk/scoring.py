"""Per-user scores and the review queue: what serving publishes and what analysts work through.

``user_scores``: ``user_id, trust, fraud_risk, band, confirmed_fraud, reasons, model_version,
scored_at``. ``confirmed_fraud``: an analyst confirmed fraud on the user by then (the access
rules deny such accounts everything but an appeal, whatever the model says).
``fraud_risk`` is the calibrated probability of an observed fraud label within the model's horizon;
``band`` cuts it at ``BANDS`` (low / medium / high), the input the access rules key on.
"""

from __future__ import annotations

from datetime import datetime

import numpy as np
import polars as pl

from models.fraud import FraudClassifier
from models.reasons import top_reasons

BANDS = {"medium": 0.10, "high": 0.50}  # fraud_risk at or above these


def user_scores(
    model: FraudClassifier,
    rows: pl.DataFrame,
    *,
    features: list[str],
    model_version: str,
    scored_at: datetime,
    reasons: int = 3,
) -> pl.DataFrame:
    """One row per user of ``rows`` (their latest snapshot features, with ``trust_trust``)."""
    x = rows.select(features)
    risk = model.predict_proba(x)[:, 1]
    said = top_reasons(model.feature_contributions(x), x, features=features, k=reasons)
    band = np.where(
        risk >= BANDS["high"], "high", np.where(risk >= BANDS["medium"], "medium", "low")
    )
    return pl.DataFrame(
        {
            "user_id": rows.get_column("user_id"),
            "trust": rows.get_column("trust_trust").fill_null(0.375),  # unscored: cold start
            "fraud_risk": risk,
            "band": band,
            "confirmed_fraud": _confirmed(rows),
            "reasons": pl.Series(said, dtype=pl.List(pl.String)),
            "model_version": model_version,
            "scored_at": pl.Series([scored_at] * rows.height, dtype=pl.Datetime("us", "UTC")),
        }
    )


def _confirmed(rows: pl.DataFrame) -> pl.Series:
    if "fraud_confirmed_n_ever" not in rows.columns:
        return pl.Series([False] * rows.height, dtype=pl.Boolean)
    return rows.get_column("fraud_confirmed_n_ever").fill_null(0) > 0


# Rules that put a user in front of an analyst whatever the model says, with their reason.
RULES: dict[str, tuple[pl.Expr, str]] = {
    "ring": (pl.col("trust_graph_risk") >= 0.9, "member of a dense shared-device ring"),
    "shared_device": (pl.col("users_per_device_ever") >= 5, "device shared by 5+ accounts"),
    "chargeback": (pl.col("chargebacks_n_30d") > 0, "chargeback in the last 30 days"),
    "mule": (pl.col("fan_in_senders_7d") >= 5, "money from 5+ senders in 7 days"),
}


def review_queue(scores: pl.DataFrame, rows: pl.DataFrame, *, capacity: int = 50) -> pl.DataFrame:
    """Today's queue: the ``capacity`` highest risks plus every rule hit, riskiest first, each
    with the model's reasons and the rules it hit."""
    hits = rows.select(
        "user_id",
        pl.concat_list(
            pl.when(expr.fill_null(False)).then(pl.lit(text)).otherwise(pl.lit(None, pl.String))
            for expr, text in RULES.values()
        )
        .list.drop_nulls()
        .alias("rule_hits"),
    )
    queue = scores.join(hits, on="user_id", how="left").with_columns(
        pl.col("fraud_risk").rank("ordinal", descending=True).alias("_rank")
    )
    queue = queue.filter((pl.col("_rank") <= capacity) | (pl.col("rule_hits").list.len() > 0))
    return queue.sort("fraud_risk", descending=True).drop("_rank").with_row_index("position", 1)

"""Per-user scores and the review queue: what serving publishes and what analysts work through.

``user_scores``: ``user_id, trust, fraud_risk, band, confirmed_fraud, reasons, model_version,
scored_at``. ``confirmed_fraud``: an analyst confirmed fraud on the user by then (the access
rules deny such accounts everything but an appeal, whatever the model says).
``fraud_risk`` is the calibrated probability that the user is fraudulent (``models.risk.pu``:
the chance of a label within the horizon over the share of fraud that labels find);
``band`` cuts it at ``BANDS`` (low / medium / high), the input the access rules key on.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import numpy as np
import polars as pl

from models.reasons import phrase, risky_sides, top_reasons

BANDS = {"medium": 0.10, "high": 0.50}  # fraud_risk at or above these
# Users whose batch decides the reasons' sides (``user_scores``' ``reference``): every user up to
# this many, else this many chosen by the stable user-id hash (``features.shards``).
REASON_REFERENCE = 20_000
ANOMALY_SAID = 0.99  # anomaly percentile from which "behaves unlike" is a reason


def user_scores(
    model: Any,
    rows: pl.DataFrame,
    *,
    features: list[str],
    model_version: str,
    scored_at: datetime,
    reasons: int = 3,
    reference: pl.DataFrame | None = None,
) -> pl.DataFrame:
    """One row per user of ``rows`` (their latest snapshot features, with ``trust_trust``).

    ``fraud_risk`` is the model's calibrated probability; an account the anomaly part finds
    stranger than ``ANOMALY_SAID`` of all accounts says so first among its reasons. Each row is
    scored on its own; only the reasons look at a batch (which side of its median raises the
    risk, ``models.reasons``): ``reference`` rows when given, else ``rows`` themselves. Scoring
    a population in slices (shards) with one reference gives what one batch of it gives."""
    risk, contributions, names, values, strange = _explain(model, rows, features=features)
    sides = None
    if reference is not None:
        _, ref_contributions, _, ref_values, _ = _explain(model, reference, features=features)
        sides = risky_sides(ref_contributions, ref_values, features=names)
    said = top_reasons(contributions, values, features=names, k=reasons, sides=sides)
    said = [
        [phrase("anomaly_percentile", s), *r][:reasons] if s >= ANOMALY_SAID else r
        for s, r in zip(strange, said, strict=True)
    ]
    return _frame(rows, risk, said, model_version=model_version, scored_at=scored_at)


def _explain(
    model: Any, rows: pl.DataFrame, *, features: list[str]
) -> tuple[np.ndarray, np.ndarray, list[str], pl.DataFrame, np.ndarray]:
    """Risk, per-feature contributions, the explained columns' names and values, and the
    anomaly percentile said as a reason (0 where not)."""
    x = rows.select(features)
    users = rows.get_column("user_id")
    names, values = list(features), x
    strange = np.zeros(rows.height)
    if hasattr(model, "parts"):
        parts = model.parts(x, users=users)
        risk = parts["risk"]
        contributions = model.feature_contributions(x, users=users, anomaly=parts["anomaly"])
        if getattr(model, "anomaly_input", False):  # the trees weigh the strangeness themselves
            names.append("anomaly_percentile")
            values = x.with_columns(anomaly_percentile=parts["anomaly_percentile"])
        else:  # "behaves unlike" only where the strangeness, not the trees, put them high
            strange = np.where(parts["supervised_percentile"] < 0.9, parts["anomaly_percentile"], 0)
    else:  # a model from before the anomaly part
        risk = model.predict_proba(x)[:, 1]
        contributions = model.feature_contributions(x)
    return risk, contributions, names, values, strange


def fallback_scores(rows: pl.DataFrame, *, model_version: str, scored_at: datetime) -> pl.DataFrame:
    """Scores without a model (no champion yet, and the candidate failed its floors): the trust
    graph's ring risk and the rules, so the platform still refuses the obvious."""
    hits = rows.select(*(expr.fill_null(False).alias(name) for name, (expr, _) in RULES.items()))
    ring = rows.get_column("trust_graph_risk").fill_null(0.0).to_numpy()
    fired = hits.to_numpy().astype(bool)
    risk = np.clip(1 - (1 - 0.9 * ring) * np.prod(1 - 0.3 * fired, axis=1), 0.0, 0.99)
    texts = [text for _, text in RULES.values()]
    said = [[texts[j] for j in np.flatnonzero(row)] for row in fired]
    return _frame(rows, risk, said, model_version=model_version, scored_at=scored_at)


def bands(risk: np.ndarray) -> np.ndarray:
    """The band of each risk: ``low`` below every cut of ``BANDS``, else the highest cut reached."""
    return np.where(
        risk >= BANDS["high"], "high", np.where(risk >= BANDS["medium"], "medium", "low")
    )


def _frame(
    rows: pl.DataFrame,
    risk: np.ndarray,
    said: list[list[str]],
    *,
    model_version: str,
    scored_at: datetime,
) -> pl.DataFrame:
    band = bands(risk)
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
    "card_testing": (
        (pl.col("failed_payments_n_30d") >= 3) & (pl.col("failed_payment_ratio_30d") >= 0.5),
        "3+ failed payments in 30 days, most of them failing",
    ),
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
    undecided = scores.filter(~pl.col("confirmed_fraud"))  # already decided: not a case
    queue = undecided.join(hits, on="user_id", how="left").with_columns(
        pl.col("fraud_risk").rank("ordinal", descending=True).alias("_rank")
    )
    queue = queue.filter((pl.col("_rank") <= capacity) | (pl.col("rule_hits").list.len() > 0))
    return queue.sort("fraud_risk", descending=True).drop("_rank").with_row_index("position", 1)


def queue_problems(queue: pl.DataFrame, scores: pl.DataFrame, *, capacity: int) -> list[str]:
    """What is wrong with a ``review_queue`` built from ``scores`` (empty when nothing): a user
    queued twice, an unscored user, not riskiest first, or fewer cases than ``capacity`` while
    that many users are undecided."""
    undecided = int((~scores.get_column("confirmed_fraud")).sum())
    checks = (
        (queue["user_id"].n_unique() != queue.height, "a user queued twice"),
        (not queue["user_id"].is_in(scores["user_id"].implode()).all(), "an unscored user queued"),
        (not queue["fraud_risk"].is_sorted(descending=True), "not riskiest first"),
        (queue.height < min(capacity, undecided), f"fewer cases than {capacity} undecided users"),
    )
    return [text for bad, text in checks if bad]

"""Credit asset: every scored user's credit limit as of D, published with the scores.

Downstream of ``user_scores`` (trust, fraud risk, band, confirmed fraud) and the lake (payment
history strictly before D); ``published_scores`` joins the limits onto the score pages, so the
limits flip with the scores they were computed from. The blocking check keeps a broken set
(a limit for a banned user, a limit without reasons, a row per user missing) from publishing.
No ``from __future__ import annotations`` here: Dagster inspects the context annotation.
"""

from dagster import (
    AssetCheckResult,
    AssetCheckSeverity,
    AssetCheckSpec,
    AssetExecutionContext,
    MaterializeResult,
    asset,
)

from features.credit import credit_limits, limit_problems, payment_history, read_history_events
from features.platform_graph.store import snapshot_time
from pipelines.assets.models import user_scores_asset
from pipelines.partitions import SNAPSHOT_DAYS, partition_day
from pipelines.resources import StorageParam
from serving.credit import credit_problems, with_credit

CREDIT_TABLE = "credit_limits"


@asset(
    name=CREDIT_TABLE,
    partitions_def=SNAPSHOT_DAYS,
    deps=[user_scores_asset],
    group_name="models",
    kinds={"parquet"},
    check_specs=[
        AssetCheckSpec(
            "limits_sane",
            asset=CREDIT_TABLE,
            blocking=True,
            description="one limit per scored user, none negative or above its cap, zero for "
            "banned, confirmed-fraud and high-band users, each explained, publishable columns",
        )
    ],
)
def credit_limits_asset(context: AssetExecutionContext, storage: StorageParam):
    """Per-user credit limits (money, explained in words) from payment history, trust and risk."""
    day = partition_day(context)
    at = snapshot_time(day)
    scores = storage.features.read("user_scores", day)
    history = payment_history(read_history_events(storage.lake.events_dir, at=at), at=at)
    limits = credit_limits(history, scores, at=at)
    path = storage.features.write(CREDIT_TABLE, day, frame=limits)
    lent = limits.filter(limits["credit_limit"] > 0)
    yield MaterializeResult(
        metadata={
            "path": str(path),
            "users": limits.height,
            "users_with_limit": lent.height,
            "currencies": lent["credit_currency"].n_unique(),
            "zero_by_rule": int(limits["credit_reasons"].list.first().str.starts_with("no ").sum()),
        }
    )
    problems = limit_problems(limits, scores) + credit_problems(with_credit(scores, limits))
    yield AssetCheckResult(
        check_name="limits_sane",
        passed=not problems,
        severity=AssetCheckSeverity.ERROR,
        description="; ".join(problems) or f"{lent.height} of {limits.height} users have a limit",
    )

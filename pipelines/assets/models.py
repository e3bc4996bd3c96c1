"""Model assets: train and release the fraud model, score every user, fill the review queue.

Daily partitions by snapshot day D, downstream of the features of the same day. ``user_scores``
carries the blocking checks that stand between a model and what serving publishes.
No ``from __future__ import annotations`` here: Dagster inspects the context annotation.
"""

from datetime import timedelta

import polars as pl
from dagster import (
    AssetCheckResult,
    AssetCheckSeverity,
    AssetCheckSpec,
    AssetExecutionContext,
    MaterializeResult,
    asset,
)

from features.fraud import SCHEMA_VERSION as FRAUD_SCHEMA
from features.platform_graph.store import snapshot_time
from models.feed.evaluate import Windows
from models.feed.release import release_ranker
from models.risk import review_queue, training_rows, user_scores
from models.risk.release import release, risk_history
from models.risk.scoring import BANDS, fallback_scores
from models.tracking import champion_version, load_model
from pipelines.assets.features import feed_training, fraud_features, trust_scores
from pipelines.partitions import SNAPSHOT_DAYS, partition_day
from pipelines.resources import Storage, StorageParam
from serving.publish import check_scores

FRAUD_MODEL = "vouch-fraud"
HORIZON = timedelta(days=7)  # a fraud label counts if it arrives within a week of the snapshot
LOOKBACK = timedelta(days=60)
EVERY = timedelta(days=2)  # snapshot spacing of training rows
REVIEW_CAPACITY = 50  # analyst reviews a day: the k of precision@k
FEED_MODEL = "vouch-feed-ranker"
RANKER_DAYS = (7, 2, 2)  # train, valid, test windows in days


def _truth(storage: Storage) -> pl.DataFrame | None:
    """Simulator ground truth, if this is a simulated platform: for evaluation metrics only."""
    path = storage.truth / "users.parquet"
    return pl.read_parquet(path).select("user_id", "fraud_from") if path.exists() else None


@asset(
    partitions_def=SNAPSHOT_DAYS,
    deps=[fraud_features, trust_scores],
    group_name="models",
    kinds={"lightgbm", "mlflow"},
)
def fraud_model(context: AssetExecutionContext, storage: StorageParam) -> MaterializeResult:
    """Train on labelled snapshots before D, log to MLflow, register; the champion alias moves
    only if the candidate clears the floors and beats the champion on the same rows."""
    day = partition_day(context)
    rows = training_rows(
        storage.lake.events_dir,
        as_of=snapshot_time(day),
        horizon=HORIZON,
        lookback=LOOKBACK,
        every=EVERY,
        trust=storage.features.read_until("trust_scores", day),
    )
    done = release(
        rows,
        tracker=storage.tracker,
        model_name=FRAUD_MODEL,
        capacity=REVIEW_CAPACITY,
        truth=_truth(storage),
        tags={
            "data_snapshot": day.isoformat(),
            "feature_schema": FRAUD_SCHEMA,
            "dagster_run": context.run.run_id,
        },
    )
    history = risk_history(done.trained, rows)
    storage.features.write("risk_history", day, frame=history)
    return MaterializeResult(
        metadata={
            "version": done.candidate.version,
            "run_id": done.candidate.run_id,
            "promoted": done.gate.promoted,
            "champion": str(done.gate.champion_version),
            "floors_failed": "; ".join(done.failed) or "none",
            **{k: float(v) for k, v in done.trained.metrics.items()},
        }
    )


@asset(
    name="user_scores",
    partitions_def=SNAPSHOT_DAYS,
    deps=[fraud_model, fraud_features],
    group_name="models",
    kinds={"parquet"},
    check_specs=[
        AssetCheckSpec(
            "publishable",
            asset="user_scores",
            blocking=True,
            description="serving.publish.check_scores: the published-scores columns and "
            "dtypes, one row per user, fraud_risk and trust in [0, 1], known bands, no nulls",
        )
    ],
)
def user_scores_asset(context: AssetExecutionContext, storage: StorageParam):
    """Every user's trust, calibrated fraud risk, band and top reasons as of D (champion model)."""
    day = partition_day(context)
    rows = storage.features.read("fraud_features", day)
    version = champion_version(storage.tracker, FRAUD_MODEL)
    if version is None:  # no model has cleared its floors yet: rules and the trust graph
        version = "fallback"
        scores = fallback_scores(
            rows, model_version=f"{FRAUD_MODEL}/fallback", scored_at=snapshot_time(day)
        )
    else:
        model = load_model(storage.tracker, FRAUD_MODEL)
        scores = user_scores(
            model,
            rows,
            features=list(model.feature_names_in_),
            model_version=f"{FRAUD_MODEL}/{version}",
            scored_at=snapshot_time(day),
        )
    path = storage.features.write("user_scores", day, frame=scores)
    yield MaterializeResult(
        metadata={
            "path": str(path),
            "users": scores.height,
            "model_version": version,
            **{f"band_{b}": int((scores["band"] == b).sum()) for b in ("low", *BANDS)},
        }
    )
    problems = check_scores(scores)
    yield AssetCheckResult(
        check_name="publishable",
        passed=not problems,
        severity=AssetCheckSeverity.ERROR,
        description="; ".join(problems) or "ready to publish",
    )


@asset(
    name="review_queue",
    partitions_def=SNAPSHOT_DAYS,
    deps=[user_scores_asset, fraud_features],
    group_name="models",
    kinds={"parquet"},
)
def review_queue_asset(context: AssetExecutionContext, storage: StorageParam) -> MaterializeResult:
    """Today's analyst queue: the highest risks plus every rule hit, with reasons."""
    day = partition_day(context)
    queue = review_queue(
        storage.features.read("user_scores", day),
        storage.features.read("fraud_features", day),
        capacity=REVIEW_CAPACITY,
    )
    path = storage.features.write("review_queue", day, frame=queue)
    return MaterializeResult(
        metadata={
            "path": str(path),
            "queued": queue.height,
            "rule_hits": int((queue["rule_hits"].list.len() > 0).sum()),
        }
    )


@asset(
    partitions_def=SNAPSHOT_DAYS,
    deps=[feed_training, trust_scores],
    group_name="models",
    kinds={"lightgbm", "mlflow"},
)
def feed_ranker(context: AssetExecutionContext, storage: StorageParam) -> MaterializeResult:
    """LambdaRank on feeds served before D (train, then valid, then test windows; a day left for
    labels), NDCG@10 against chronological, popularity and (simulated platforms) oracle order."""
    day = partition_day(context)
    end = snapshot_time(day) - timedelta(days=1)  # impressions need a day for their labels
    windows = Windows.by_days(
        end - timedelta(days=sum(RANKER_DAYS)),
        train_days=RANKER_DAYS[0],
        valid_days=RANKER_DAYS[1],
        test_days=RANKER_DAYS[2],
    )
    truth = storage.truth if (storage.truth / "manifest.json").exists() else None
    done = release_ranker(
        storage.lake.events_dir,
        windows=windows,
        tracker=storage.tracker,
        trust=storage.features.read_until("trust_scores", day),
        model_name=FEED_MODEL,
        tags={"data_snapshot": day.isoformat(), "dagster_run": context.run.run_id},
        truth=truth,
    )
    ndcg = done.report["ndcg_at_10"]
    return MaterializeResult(
        metadata={
            "version": done.candidate.version,
            "promoted": done.gate.promoted,
            **{f"ndcg_{name}": float(v) for name, v in ndcg.items()},
            "ratio_model_to_oracle": float(done.report.get("ratio_model_to_oracle", float("nan"))),
            "groups_evaluated": done.report["groups"]["evaluated"],
        }
    )

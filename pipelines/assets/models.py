"""Model assets: train and release the fraud model, score every user, fill the review queue.

Daily partitions by snapshot day D, downstream of the features of the same day. ``user_scores``
carries the blocking checks that stand between a model and what serving publishes.
No ``from __future__ import annotations`` here: Dagster inspects the context annotation.
"""

import tempfile
from datetime import timedelta
from pathlib import Path

import polars as pl
from dagster import (
    AssetCheckResult,
    AssetCheckSeverity,
    AssetCheckSpec,
    AssetDep,
    AssetExecutionContext,
    MaterializeResult,
    MetadataValue,
    asset,
)

from features.fraud import SCHEMA_VERSION as FRAUD_SCHEMA
from features.platform_graph.store import snapshot_time
from models.feed.release import release_ranker
from models.risk import review_queue, training_parts
from models.risk.release import release, risk_history
from models.risk.scoring import BANDS, queue_problems
from models.risk.spill import spill
from models.tracking import GateResult
from pipelines.assets.features import feed_training, fraud_features, trust_scores
from pipelines.assets.ranking import (
    ranker_windows,
    release_metadata,
    release_tags,
    simulated_truth,
)
from pipelines.assets.scoring import FRAUD_MODEL, gather_scores, user_score_shards
from pipelines.metadata import histogram_md, precision_recall_md
from pipelines.partitions import BY_DAY, SHARDS, SNAPSHOT_DAYS, partition_day
from pipelines.resources import Storage, StorageParam
from serving.publish import check_scores

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


def _gate_check(gate: GateResult, *, metric: str, floors_failed: bool) -> AssetCheckResult:
    """The release gate's verdict as a check: a warning, since a worse candidate is simply kept
    out and the champion serves on."""
    if floors_failed:
        worse, text = True, "not compared: the candidate failed its floors"
    elif gate.champion_score is None:
        worse, text = False, "no champion, or it cannot score these rows: nothing to be worse than"
    else:
        worse = gate.candidate_score < gate.champion_score
        text = f"{metric} {gate.candidate_score:.4f} vs the champion's {gate.champion_score:.4f}"
    return AssetCheckResult(
        check_name="not_worse_than_champion",
        passed=not worse,
        severity=AssetCheckSeverity.WARN,
        description=text,
        metadata={
            "candidate": gate.candidate_score,
            "champion": float("nan") if gate.champion_score is None else gate.champion_score,
            "promoted": gate.promoted,
        },
    )


@asset(
    partitions_def=SNAPSHOT_DAYS,
    deps=[fraud_features, trust_scores],
    group_name="models",
    kinds={"lightgbm", "mlflow"},
    check_specs=[
        AssetCheckSpec(
            "floors",
            asset="fraud_model",
            description="enough positives, out-of-fold ROC AUC, a sane high band (release.Floors)",
        ),
        AssetCheckSpec(
            "not_worse_than_champion",
            asset="fraud_model",
            description="the candidate's average precision >= the champion's on the same rows",
        ),
    ],
)
def fraud_model(context: AssetExecutionContext, storage: StorageParam):
    """Fraud model trained on labels before D, registered in MLflow; champion only if better."""
    # Unsharded: training sees every labelled row (users x snapshots in the lookback, about
    # 2.3 KB a row), so the rows are spilled to Parquet a pass at a time and read back as the
    # sample and in blocks (models.risk.spill); scoring with the model is what runs by shard.
    # The champion alias moves only if the candidate clears the floors and beats the champion
    # on the same rows; both verdicts are checks below, so a kept candidate reads as a warning.
    day = partition_day(context)
    parts = training_parts(
        storage.lake.events_dir,
        as_of=snapshot_time(day),
        horizon=HORIZON,
        lookback=LOOKBACK,
        every=EVERY,
        trust=storage.features.read_until("trust_scores", day),
    )
    storage.scratch.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="fraud_model-", dir=storage.scratch) as spilled:
        rows = spill(parts, directory=Path(spilled))
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
    judged = done.trained.rows if done.trained.rows is not None else history
    yield MaterializeResult(
        metadata={
            "version": done.candidate.version,
            "run_id": done.candidate.run_id,
            "promoted": done.gate.promoted,
            "champion": str(done.gate.champion_version),
            "floors_failed": "; ".join(done.failed) or "none",
            "training_rows": judged.height,
            "precision_recall": MetadataValue.md(
                precision_recall_md(
                    judged.get_column("label").to_numpy(),
                    done.trained.model.oof_risk_,
                    ks=[REVIEW_CAPACITY // 2, REVIEW_CAPACITY, 2 * REVIEW_CAPACITY, 500],
                )
            ),
            **{k: float(v) for k, v in done.trained.metrics.items()},
        }
    )
    yield AssetCheckResult(
        check_name="floors",
        passed=not done.failed,
        severity=AssetCheckSeverity.WARN,
        description="; ".join(done.failed) or "every floor cleared",
    )
    yield _gate_check(done.gate, metric="average precision", floors_failed=bool(done.failed))


@asset(
    name="user_scores",
    partitions_def=SNAPSHOT_DAYS,
    deps=[fraud_model, fraud_features, AssetDep(user_score_shards, partition_mapping=BY_DAY)],
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
    """Every user's trust, calibrated risk, band and top reasons as of D: the shards gathered."""
    # One table and so one published version; a missing or stale shard is scored here
    # (pipelines.assets.scoring).
    day = partition_day(context)
    shards = len(SHARDS.get_partition_keys())
    gathered = gather_scores(storage, day, shards=shards)
    scores, version = gathered.scores, gathered.version
    path = storage.features.write("user_scores", day, frame=scores)
    yield MaterializeResult(
        metadata={
            "path": str(path),
            "users": scores.height,
            "model_version": version,
            "shards": shards,
            "shards_scored_here": len(gathered.scored_here),
            **{f"band_{b}": int((scores["band"] == b).sum()) for b in ("low", *BANDS)},
            "mean_fraud_risk": float(scores["fraud_risk"].mean() or 0.0),
            "risk_distribution": MetadataValue.md(
                histogram_md(
                    scores["fraud_risk"].to_numpy(),
                    edges=[0.0, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0],
                    label="fraud risk",
                )
            ),
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
    check_specs=[
        AssetCheckSpec(
            "cases_well_formed",
            asset="review_queue",
            description="one case per user, each a scored user, riskiest first, and at least "
            "the review capacity queued when that many users are undecided",
        )
    ],
)
def review_queue_asset(context: AssetExecutionContext, storage: StorageParam):
    """Today's analyst queue: the highest risks plus every rule hit, with reasons."""
    day = partition_day(context)
    scores = storage.features.read("user_scores", day)
    queue = review_queue(
        scores, storage.features.read("fraud_features", day), capacity=REVIEW_CAPACITY
    )
    path = storage.features.write("review_queue", day, frame=queue)
    yield MaterializeResult(
        metadata={
            "path": str(path),
            "queued": queue.height,
            "rule_hits": int((queue["rule_hits"].list.len() > 0).sum()),
            "top_risk": float(queue["fraud_risk"].max() or 0.0),
            "risk_at_capacity": float(queue["fraud_risk"].head(REVIEW_CAPACITY).min() or 0.0),
        }
    )
    problems = queue_problems(queue, scores, capacity=REVIEW_CAPACITY)
    yield AssetCheckResult(
        check_name="cases_well_formed",
        passed=not problems,
        severity=AssetCheckSeverity.ERROR,
        description="; ".join(problems) or f"{queue.height} cases, riskiest first",
    )


@asset(
    partitions_def=SNAPSHOT_DAYS,
    deps=[feed_training, trust_scores],
    group_name="models",
    kinds={"lightgbm", "mlflow"},
    check_specs=[
        AssetCheckSpec(
            "beats_chronological",
            asset="feed_ranker",
            description="test NDCG@10 above the chronological order a feed falls back to",
        ),
        AssetCheckSpec(
            "not_worse_than_champion",
            asset="feed_ranker",
            description="the candidate's test NDCG@10 >= the champion's on the same groups",
        ),
    ],
)
def feed_ranker(context: AssetExecutionContext, storage: StorageParam):
    """Feed LambdaRank trained on feeds served before D, judged by NDCG@10 against baselines."""
    # NDCG@10 against the chronological, popularity and (simulated platforms) oracle orders.
    day = partition_day(context)
    done = release_ranker(
        storage.lake.events_dir,
        windows=ranker_windows(day, RANKER_DAYS),
        tracker=storage.tracker,
        trust=storage.features.read_until("trust_scores", day),
        model_name=FEED_MODEL,
        tags=release_tags(context, day),
        truth=simulated_truth(storage),
    )
    ndcg = done.report["ndcg_at_10"]
    yield MaterializeResult(
        metadata={
            **release_metadata(done),
            "ratio_model_to_oracle": float(done.report.get("ratio_model_to_oracle", float("nan"))),
        }
    )
    model, chrono = ndcg.get("model", float("nan")), ndcg.get("chronological", float("nan"))
    yield AssetCheckResult(
        check_name="beats_chronological",
        passed=bool(model > chrono),
        severity=AssetCheckSeverity.WARN,
        description=f"NDCG@10 {model:.4f} vs chronological {chrono:.4f}",
    )
    yield _gate_check(done.gate, metric="NDCG@10", floors_failed=False)

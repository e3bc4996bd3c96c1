"""The search ranker asset, daily partitions by snapshot day D: train on the searches of the
days before D, gate against the champion in MLflow, publish the champion for the core API.

Windows as the feed ranker's (``RANKER_DAYS``: train, valid, test, with a day left for the
labels); seller trust from ``trust_scores``, seller fraud risk from ``user_scores`` (the
published risk, as of each day). The release (``serving.search.publish``) holds the champion's
booster, the category price medians and the seller table as of D; the core API ranks with it
and falls back to relevance without it.
No ``from __future__ import annotations`` here: Dagster inspects the context annotation.
"""

import polars as pl
from dagster import (
    AssetCheckResult,
    AssetCheckSeverity,
    AssetCheckSpec,
    AssetExecutionContext,
    MaterializeResult,
    asset,
)

from features.platform_graph.store import snapshot_time
from models.search.ranker import NoSearchesToLearn
from models.search.release import publication, release_search_ranker
from models.tracking import champion_version, load_model
from pipelines.assets import models as model_assets
from pipelines.assets.features import trust_scores
from pipelines.assets.models import user_scores_asset
from pipelines.assets.ranking import ranker_windows, release_metadata, release_tags, simulated_truth
from pipelines.partitions import SNAPSHOT_DAYS, partition_day
from pipelines.resources import StorageParam
from serving.search import load, publish

SEARCH_MODEL = "vouch-search-ranker"


def _risk(scores: pl.DataFrame | None) -> pl.DataFrame | None:
    """``user_id, snapshot_at, fraud_risk`` from the stored user scores, if they say when."""
    if scores is None or "fraud_risk" not in scores.columns:
        return None
    when = next((c for c in ("snapshot_at", "scored_at") if c in scores.columns), None)
    if when is None:
        return None
    return scores.select("user_id", pl.col(when).alias("snapshot_at"), "fraud_risk")


@asset(
    partitions_def=SNAPSHOT_DAYS,
    deps=[trust_scores, user_scores_asset],
    group_name="models",
    kinds={"lightgbm", "mlflow"},
    check_specs=[
        AssetCheckSpec(
            "beats_relevance",
            asset="search_ranker",
            description="test NDCG@10 above the relevance order search falls back to, on the "
            "shuffled (exploration) searches",
        ),
        AssetCheckSpec(
            "serves_the_champion",
            asset="search_ranker",
            description="the core API's current search release is the champion just published",
        ),
    ],
)
def search_ranker(context: AssetExecutionContext, storage: StorageParam):
    """Search LambdaRank trained on searches before D, gated, the champion published."""
    day = partition_day(context)
    at = snapshot_time(day)
    trust = storage.features.read_until("trust_scores", day)
    risk = _risk(storage.features.read_until("user_scores", day))
    root = storage.settings.search_ranker
    try:
        done = release_search_ranker(
            storage.lake.events_dir,
            windows=ranker_windows(day, model_assets.RANKER_DAYS),  # read when run
            trust=trust,
            risk=risk,
            tracker=storage.tracker,
            model_name=SEARCH_MODEL,
            tags=release_tags(context, day),
            truth=simulated_truth(storage),
        )
    except NoSearchesToLearn as exc:  # a platform without searches yet: search ranks by relevance
        served = load(root)
        yield MaterializeResult(metadata={"trained": False, "why": str(exc)})
        yield AssetCheckResult(
            check_name="beats_relevance",
            passed=False,
            severity=AssetCheckSeverity.WARN,
            description=f"not trained: {exc}",
        )
        yield AssetCheckResult(
            check_name="serves_the_champion",
            passed=True,
            severity=AssetCheckSeverity.ERROR,
            description="nothing new to publish; serving "
            + (served.version if served else "nothing: search ranks by relevance"),
        )
        return
    version = champion_version(storage.tracker, SEARCH_MODEL)
    if version is not None:
        champion = load_model(storage.tracker, SEARCH_MODEL)
        text, meta, sellers = publication(
            champion, storage.lake.events_dir, at=at, trust=trust, risk=risk
        )
        publish(root, version=version, model_text=text, meta=meta, sellers=sellers)
    served = load(root)
    yield MaterializeResult(
        metadata={
            "trained": True,
            **release_metadata(done),
            "champion": version or "none",
            **{
                f"fraud_top3_{name}": float(v)
                for name, v in done.report.get("fraud_share_top3", {}).items()
            },
        }
    )
    # On the shuffled pages when there are any: on pages served by relevance the relevance
    # order is favoured by position bias (what was on top got the orders).
    fair = done.report.get("shuffled_searches", done.report)
    which = "shuffled searches" if fair is not done.report else "all searches"
    model, relevance = fair["ndcg_at_10"]["model"], fair["ndcg_at_10"]["relevance"]
    yield AssetCheckResult(
        check_name="beats_relevance",
        passed=bool(model > relevance),
        severity=AssetCheckSeverity.WARN,
        description=f"NDCG@10 on {which} {model:.4f} vs relevance {relevance:.4f}",
    )
    yield AssetCheckResult(
        check_name="serves_the_champion",
        passed=served is not None and served.version == version,
        severity=AssetCheckSeverity.ERROR,
        description=f"served {served.version if served else 'nothing'}, champion {version}",
    )

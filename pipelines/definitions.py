"""Every piece of Dagster wiring, listed explicitly. ``dagster dev -m pipelines.definitions``.

What runs when (README, "Operating the pipeline"):
- ``landing_sensor`` ingests each landing day whose files changed; ``nats_drain_sensor`` first
  moves JetStream into landing when ``VOUCH_NATS_URL`` is set.
- ``daily_automation`` (declarative automation): every asset downstream of the ingest is
  ``eager``: it runs once its inputs have updated, none is missing or running, and their
  blocking checks passed, so snapshot D follows the ingest of landing day D-1 through features,
  scores and publishing. ``fraud_model`` is left out of that condition: it retrains when
  ``retrain_sensor`` sees enough new review decisions, and the day's scores use the champion.
- ``run_failure_alert`` and ``freshness_checks_sensor`` observe and alert.

Where steps run: the multiprocess executor (one process per step on this machine) unless
``VOUCH_CELERY_BROKER_URL`` is set, when every job's steps go to Celery workers through that
broker (``pipelines.executors``; README, "From one machine to many"). The ``score_shards`` job
scores one day x shard partition (``pipelines.assets.scoring``); a backfill of a day's shards
is one run per shard, spread over the workers.
"""

from __future__ import annotations

from dagster import (
    AssetsDefinition,
    AssetSelection,
    AutomationCondition,
    AutomationConditionSensorDefinition,
    DefaultSensorStatus,
    Definitions,
    define_asset_job,
)

from pipelines.assets.credit import credit_limits_asset
from pipelines.assets.features import feed_training, fraud_features, trust_graph, trust_scores
from pipelines.assets.ingest import lake_events, warehouse_views
from pipelines.assets.models import (
    feed_ranker,
    fraud_model,
    review_queue_asset,
    user_scores_asset,
)
from pipelines.assets.scoring import user_score_shards
from pipelines.assets.search import search_ranker
from pipelines.assets.serving import published_scores
from pipelines.assets.timelines import feed_scores, feed_timelines
from pipelines.checks import freshness_checks, freshness_sensor, score_age
from pipelines.executors import executor_for
from pipelines.resources import storage_resource
from pipelines.sensors import (
    INGEST_JOB,
    RETRAIN_JOB,
    landing_sensor,
    nats_drain_sensor,
    retrain_sensor,
    run_failure_alert,
)
from settings import get_settings

SCORE_SHARDS_JOB = "score_shards"

# Who answers for an asset, by group: ops runs the ingest and what serving reads; data science
# owns what is computed in between.
OWNERS = {
    "ingest": ["team:ops"],
    "features": ["team:data-science"],
    "models": ["team:data-science"],
    "serving": ["team:ops"],
}
CHECKED = AutomationCondition.all_deps_blocking_checks_passed()
DAILY = (
    AutomationCondition.eager().ignore(AssetSelection.assets(fraud_model)) & CHECKED
).with_label("after the day's ingest")
# The views span every landing day, most of which were never landed: refresh them after any
# ingest instead of waiting for the missing days.
CONDITIONS = {
    warehouse_views.key: (
        AutomationCondition.eager().without(~AutomationCondition.any_deps_missing()) & CHECKED
    ).with_label("after any ingest"),
    # lake_events runs from landing_sensor; fraud_model from retrain_sensor (or by hand).
    lake_events.key: None,
    fraud_model.key: None,
}


def _wired(assets: AssetsDefinition) -> AssetsDefinition:
    return assets.map_asset_specs(
        lambda spec: spec.replace_attributes(
            owners=OWNERS[spec.group_name or ""],
            automation_condition=CONDITIONS.get(spec.key, DAILY),
        )
    )


# The asset lists the CLI materialises too: wired, so its runs are the ones the UI describes.
INGEST = [_wired(a) for a in (lake_events, warehouse_views)]
FEATURES = [_wired(a) for a in (trust_graph, trust_scores, fraud_features, feed_training)]
MODELS = [
    _wired(a)
    for a in (
        fraud_model,
        feed_ranker,
        user_scores_asset,
        review_queue_asset,
        credit_limits_asset,
        search_ranker,
    )
]
SERVING = [_wired(a) for a in (published_scores, feed_timelines, feed_scores)]
# Partitioned by day x shard: a job of its own (a job's assets share one partitions definition).
SHARDED = [_wired(user_score_shards)]
ASSETS = [*INGEST, *FEATURES, *MODELS, *SHARDED, *SERVING]
# A retrain replaces what the old champion scored: scores, queue, credit and both publications.
RETRAIN = [
    fraud_model,
    user_scores_asset,
    review_queue_asset,
    credit_limits_asset,
    published_scores,
    feed_scores,
]
FRESHNESS = freshness_checks()

ingest_job = define_asset_job(INGEST_JOB, selection=INGEST)
features_job = define_asset_job("features", selection=FEATURES)
models_job = define_asset_job("models", selection=MODELS)
publish_job = define_asset_job("publish", selection=SERVING)
daily_job = define_asset_job("daily", selection=[*FEATURES, *MODELS, *SERVING])
retrain_job = define_asset_job(RETRAIN_JOB, selection=RETRAIN)
score_shards_job = define_asset_job(SCORE_SHARDS_JOB, selection=SHARDED)

daily_automation = AutomationConditionSensorDefinition(
    "daily_automation",
    target=AssetSelection.all() | AssetSelection.all_asset_checks(),  # score_age's clock too
    default_status=DefaultSensorStatus.STOPPED,
    minimum_interval_seconds=60,
    description="Evaluates every asset's automation condition (the daily chain after ingest, "
    "the hourly score_age check) and launches what is due",
)

defs = Definitions(
    assets=ASSETS,
    asset_checks=[*FRESHNESS, score_age],
    jobs=[
        ingest_job,
        features_job,
        models_job,
        publish_job,
        daily_job,
        retrain_job,
        score_shards_job,
    ],
    sensors=[
        landing_sensor,
        nats_drain_sensor,
        retrain_sensor,
        run_failure_alert,
        daily_automation,
        freshness_sensor(FRESHNESS),
    ],
    resources={"storage": storage_resource()},
    executor=executor_for(get_settings()),
)

"""Every piece of Dagster wiring, listed explicitly. ``dagster dev -m pipelines.definitions``."""

from __future__ import annotations

from dagster import Definitions, define_asset_job

from pipelines.assets.features import feed_training, fraud_features, trust_graph, trust_scores
from pipelines.assets.ingest import lake_events, warehouse_views
from pipelines.assets.models import (
    feed_ranker,
    fraud_model,
    review_queue_asset,
    user_scores_asset,
)
from pipelines.assets.serving import published_scores
from pipelines.assets.timelines import feed_scores, feed_timelines
from pipelines.resources import storage_resource

INGEST = [lake_events, warehouse_views]
FEATURES = [trust_graph, trust_scores, fraud_features, feed_training]
MODELS = [fraud_model, feed_ranker, user_scores_asset, review_queue_asset]
SERVING = [published_scores, feed_timelines, feed_scores]

ingest_job = define_asset_job("ingest", selection=INGEST)
features_job = define_asset_job("features", selection=FEATURES)
models_job = define_asset_job("models", selection=MODELS)
publish_job = define_asset_job("publish", selection=SERVING)
daily_job = define_asset_job("daily", selection=[*FEATURES, *MODELS, *SERVING])

defs = Definitions(
    assets=[*INGEST, *FEATURES, *MODELS, *SERVING],
    jobs=[ingest_job, features_job, models_job, publish_job, daily_job],
    resources={"storage": storage_resource()},
)

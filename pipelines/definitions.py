"""Every piece of Dagster wiring, listed explicitly. ``dagster dev -m pipelines.definitions``."""

from __future__ import annotations

from dagster import Definitions, define_asset_job

from pipelines.assets.features import feed_training, fraud_features, trust_graph, trust_scores
from pipelines.assets.ingest import lake_events, warehouse_views
from pipelines.resources import Storage

INGEST = [lake_events, warehouse_views]
FEATURES = [trust_graph, trust_scores, fraud_features, feed_training]

ingest_job = define_asset_job("ingest", selection=INGEST)
features_job = define_asset_job("features", selection=FEATURES)

defs = Definitions(
    assets=[*INGEST, *FEATURES],
    jobs=[ingest_job, features_job],
    resources={"storage": Storage.from_settings()},
)

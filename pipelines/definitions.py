"""Every piece of Dagster wiring, listed explicitly. ``dagster dev -m pipelines.definitions``."""

from __future__ import annotations

from dagster import Definitions, define_asset_job

from pipelines.assets.ingest import lake_events, warehouse_views
from pipelines.resources import Storage

ingest_job = define_asset_job("ingest", selection=[lake_events, warehouse_views])

defs = Definitions(
    assets=[lake_events, warehouse_views],
    jobs=[ingest_job],
    resources={"storage": Storage.from_settings()},
)

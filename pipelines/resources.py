"""The one Dagster resource: where the data lives and which stores serve it, from ``Settings``.

``Storage`` wraps a ``settings.Settings`` (every path comes from there) and is built when a run
starts, not when the definitions are imported: ``storage_resource()`` reads the settings then.
Assets take it as ``storage: StorageParam``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from dagster import ConfigurableResource, InitResourceContext, ResourceParam

from models.tracking import Tracker
from pipelines.feature_store import FeatureStore
from pipelines.ingest import Lake
from serving.feed import RedisFeed, SqliteFeed, open_feed
from serving.store import Store, open_store
from settings import Settings, get_settings


@dataclass(frozen=True)
class Storage:
    settings: Settings
    progress: bool = False  # progress bars on stderr, for runs started from a terminal

    @property
    def landing(self) -> Path:
        return self.settings.landing

    @property
    def lake(self) -> Lake:
        return Lake(self.settings.lake)

    @property
    def warehouse(self) -> Path:
        return self.settings.warehouse

    @property
    def features(self) -> FeatureStore:
        return FeatureStore(self.settings.features, warehouse=self.settings.warehouse)

    @property
    def graph_snapshots(self) -> Path:
        """The trust graph's snapshots: a feature-store table of its own layout."""
        return self.features.table("trust_graph")

    @property
    def scratch(self) -> Path:
        return self.settings.scratch

    @property
    def truth(self) -> Path:
        """The simulator's ground truth: for evaluation only, never a feature."""
        return self.settings.truth

    @property
    def tracker(self) -> Tracker:
        s = self.settings
        return Tracker.local(
            database=s.mlflow_database, artifacts=s.mlflow_artifacts, uri=s.mlflow_tracking_uri
        )

    @property
    def max_future(self) -> timedelta:
        return timedelta(hours=self.settings.max_future_hours)

    @property
    def backend(self) -> str:
        return "redis" if self.settings.redis_url else "sqlite"

    def online_store(self) -> Store:
        """Redis when ``redis_url`` is set, else the embedded file (a publisher's patience)."""
        return open_store(self.settings, timeout_s=5.0, progress=self.progress)

    def online_feed(self) -> RedisFeed | SqliteFeed:
        return open_feed(self.settings)


StorageParam = ResourceParam[Storage]


class StorageResource(ConfigurableResource):
    """Builds ``Storage`` from the environment's settings when a run starts."""

    progress: bool = False

    def create_resource(self, context: InitResourceContext) -> Storage:
        return Storage(get_settings(), progress=self.progress)


def storage_resource() -> StorageResource:
    return StorageResource()

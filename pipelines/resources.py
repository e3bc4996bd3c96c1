"""The one Dagster resource: where the data lives. Built from ``serving.settings``."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from dagster import ConfigurableResource

from models.tracking import Tracker
from pipelines.feature_store import FeatureStore
from pipelines.ingest import Lake
from serving.settings import Settings, get_settings
from serving.store import Store, open_store


class Storage(ConfigurableResource):
    """Paths of the landing, the lake and the warehouse, and ingest tolerances."""

    data_dir: str
    landing_dir: str
    max_future_hours: float = 24.0
    mlflow_tracking_uri: str | None = None  # default: SQLite under the data dir
    redis_url: str | None = None  # online store; default: SQLite file under the data dir
    progress: bool = False  # progress bars on stderr, for runs started from a terminal

    @classmethod
    def from_settings(cls, settings: Settings | None = None, **overrides: object) -> Storage:
        s = settings or get_settings()
        values = {"data_dir": str(s.data_dir.resolve()), "landing_dir": str(s.landing),
                  "max_future_hours": s.max_future_hours, "redis_url": s.redis_url,
                  "mlflow_tracking_uri": s.mlflow_tracking_uri}  # fmt: skip
        return cls(**{**values, **overrides})

    @property
    def landing(self) -> Path:
        return Path(self.landing_dir)

    @property
    def lake(self) -> Lake:
        return Lake(Path(self.data_dir) / "lake")

    @property
    def warehouse(self) -> Path:
        return Path(self.data_dir) / "warehouse.duckdb"

    @property
    def features(self) -> FeatureStore:
        return FeatureStore(Path(self.data_dir) / "features")

    @property
    def tracker(self) -> Tracker:
        return Tracker.local(Path(self.data_dir), self.mlflow_tracking_uri)

    def online_store(self) -> Store:
        """Redis when ``redis_url`` is set, else the SQLite file under the data dir."""
        settings = Settings(data_dir=Path(self.data_dir), redis_url=self.redis_url)
        return open_store(settings, timeout_s=5.0, progress=self.progress)

    @property
    def truth(self) -> Path:
        """The simulator's ground truth: for evaluation only, never a feature."""
        return Path(self.data_dir) / "ground_truth"

    @property
    def graph_snapshots(self) -> Path:
        return Path(self.data_dir) / "features" / "trust_graph"

    @property
    def max_future(self) -> timedelta:
        return timedelta(hours=self.max_future_hours)

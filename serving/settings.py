"""Deployment settings, read from ``VOUCH_*`` environment variables (or a ``.env`` file).

Lives here because it is the one package both ``pipelines`` and ``core_api`` may import; the plain
libraries (``features``, ``models``) never read settings, they take arguments.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="VOUCH_", env_file=".env", extra="ignore")

    data_dir: Path = Field(Path("data"), description="everything generated: lake, DuckDB, runs")
    landing_dir: Path | None = Field(None, description="NDJSON landing; default <data_dir>/landing")
    max_future_hours: float = Field(24.0, ge=0, description="clock skew tolerated on occurred_at")
    database_url: str | None = Field(None, description="transactional DB; default SQLite file")
    redis_url: str | None = Field(None, description="online store; default SQLite file")
    nats_url: str | None = Field(None, description="event transport; default NDJSON landing")
    mlflow_tracking_uri: str | None = Field(None, description="default SQLite under data_dir")
    rules_path: Path | None = Field(None, description="access rules; default the packaged file")
    admin_emails: str = Field(
        "", description="comma-separated verified e-mails that may bootstrap the first admin"
    )
    dev_deposits: bool = Field(
        True, description="POST /payments/deposits as a card top-up stand-in (off in production)"
    )

    @property
    def landing(self) -> Path:
        return (self.landing_dir or self.data_dir / "landing").resolve()

    @property
    def lake(self) -> Path:
        return (self.data_dir / "lake").resolve()

    @property
    def warehouse(self) -> Path:
        return (self.data_dir / "warehouse.duckdb").resolve()

    @property
    def online_store(self) -> Path:
        """The embedded online store (when no ``redis_url``)."""
        return (self.data_dir / "online.sqlite").resolve()

    @property
    def dagster_home(self) -> Path:
        return (self.data_dir / "dagster").resolve()

    @property
    def truth(self) -> Path:
        """Simulator ground truth: for evaluation only, never a feature."""
        return (self.data_dir / "ground_truth").resolve()


@lru_cache
def get_settings() -> Settings:
    return Settings()

"""Deployment settings and the data directory's layout: the one home of both.

Every package may import this module (it imports none of ours). Settings come from ``VOUCH_*``
environment variables (or a ``.env`` file) through one cached getter; a ``VOUCH_*`` variable that
names no setting is an error, so a typo cannot silently fall back to a default. Every file and
folder under the data directory has a property here and is spelled nowhere else; the plain
libraries (``features``, ``models``, ``serving``) take paths as arguments rather than reading
settings.
"""

from __future__ import annotations

import os
from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import Any

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

PREFIX = "VOUCH_"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix=PREFIX, env_file=".env", extra="forbid")

    data_dir: Path = Field(Path("data"), description="everything generated: lake, DuckDB, runs")
    landing_dir: Path | None = Field(None, description="NDJSON landing; default <data_dir>/landing")
    max_future_hours: float = Field(24.0, ge=0, description="clock skew tolerated on occurred_at")
    database_url: str | None = Field(None, description="transactional DB; default SQLite file")
    redis_url: str | None = Field(None, description="online store; default SQLite file")
    redis_cluster: bool = Field(
        False,
        description="redis_url names one node of a Redis Cluster: the store and the feed go "
        "through redis-py's RedisCluster and route each decision to its user's node",
    )
    nats_url: str | None = Field(None, description="event transport; default NDJSON landing")
    mlflow_tracking_uri: str | None = Field(None, description="default SQLite under data_dir")
    dagster_postgres_url: str | None = Field(
        None, description="Dagster run/event/schedule storage; default SQLite under data_dir"
    )
    alert_webhook_url: str | None = Field(
        None,
        pattern=r"^https?://",
        description="failed Dagster runs are POSTed here as JSON; unset: logged only",
    )
    retrain_min_labels: int = Field(
        50,
        ge=1,
        description="review decisions (confirmed or cleared) ingested since the fraud model "
        "last trained that trigger a retrain: about one day of the analysts' capacity",
    )
    partitions_start: date | None = Field(
        None, description="first daily Dagster partition; default the earliest landing day"
    )
    score_shards: int = Field(
        4,
        ge=1,
        le=1024,
        description="user-id hash shards of the per-user scoring: Dagster partitions day x "
        "shard, each scored on its own (features/shards.py names the hash)",
    )
    celery_broker_url: str | None = Field(
        None,
        description="run Dagster's steps on Celery workers through this broker (e.g. "
        "pyamqp://guest:guest@127.0.0.1:5672//); unset: the multiprocess executor",
    )
    search_explore_share: float = Field(
        0.05,
        ge=0.0,
        le=1.0,
        description="share of first pages of GET /marketplace/search (sort=best) served with "
        "their best listings shuffled: position-unbiased searches to train and judge rankers on",
    )
    rules_path: Path | None = Field(None, description="access rules; default the packaged file")
    admin_emails: str = Field(
        "", description="comma-separated verified e-mails that may bootstrap the first admin"
    )
    chargeback_webhook_secret: str | None = Field(
        None,
        description="HMAC-SHA256 key the card network signs chargeback webhooks with; "
        "unset: POST /webhooks/chargebacks answers 404",
        min_length=16,
    )
    dev_deposits: bool = Field(
        True, description="POST /payments/deposits as a card top-up stand-in (off in production)"
    )
    console_secure_cookie: bool = Field(
        False, description="mark the analyst console's cookies Secure (on behind HTTPS)"
    )
    files_url: str | None = Field(
        None,
        pattern=r"^[a-z][a-z0-9+.-]*://",
        description="attachments on object storage through fsspec, e.g. s3://bucket/prefix "
        "(s3:// needs the s3fs package); unset: a folder under data_dir",
    )
    files_max_bytes: int = Field(
        10 * 1024 * 1024, ge=1, le=1 << 30, description="largest attachment accepted (413 past it)"
    )
    files_types: str = Field(
        "image/png,image/jpeg,image/gif,image/webp,application/pdf,text/plain",
        pattern=r"^[a-z]+/[a-z0-9.+-]+(,[a-z]+/[a-z0-9.+-]+)*$",
        description="comma-separated media types an attachment may be, as read from its first "
        "bytes (not as declared); others answer 415",
    )
    files_per_parent: int = Field(
        20, ge=1, le=1000, description="attachments one task, message or listing may hold"
    )

    @model_validator(mode="before")
    @classmethod
    def _no_unknown_variables(cls, values: Any) -> Any:
        known = {f"{PREFIX}{name.upper()}" for name in cls.model_fields}
        unknown = sorted(k for k in os.environ if k.startswith(PREFIX) and k not in known)
        if unknown:
            raise ValueError(
                f"unknown environment variables {', '.join(unknown)}; "
                f"settings are {', '.join(sorted(known))}"
            )
        return values

    def _under(self, *parts: str) -> Path:
        return self.data_dir.resolve().joinpath(*parts)

    # --- the data directory's layout ---------------------------------------------------------
    @property
    def landing(self) -> Path:
        """NDJSON landing files, by arrival day."""
        return (self.landing_dir or self.data_dir / "landing").resolve()

    @property
    def lake(self) -> Path:
        """The Parquet lake: events, quarantine, the ingest log."""
        return self._under("lake")

    @property
    def warehouse(self) -> Path:
        """The DuckDB file with views over the lake and the feature tables."""
        return self._under("warehouse.duckdb")

    @property
    def features(self) -> Path:
        """The feature store: one folder per table, partitioned by snapshot day."""
        return self._under("features")

    @property
    def truth(self) -> Path:
        """Simulator ground truth: for evaluation only, never a feature."""
        return self._under("ground_truth")

    @property
    def core_database(self) -> Path:
        """The core API's SQLite database (when no ``database_url``)."""
        return self._under("core.sqlite")

    @property
    def files(self) -> Path:
        """Attachments of tasks, messages and listings (when no ``files_url``)."""
        return self._under("files")

    @property
    def signing_key(self) -> Path:
        """The core API's token signing key (created on first start, mode 0600)."""
        return self._under("core_api.key")

    @property
    def online_store(self) -> Path:
        """The embedded online store (when no ``redis_url``); its rate counters sit beside it."""
        return self._under("online.sqlite")

    @property
    def online_feed(self) -> Path:
        """The embedded feed timelines (when no ``redis_url``)."""
        return self._under("online_feed.sqlite3")

    @property
    def search_ranker(self) -> Path:
        """The released listing-search ranker as the core API reads it (``serving.search``)."""
        return self._under("search_ranker")

    @property
    def mlflow_database(self) -> Path:
        """MLflow's SQLite backend (when no ``mlflow_tracking_uri``)."""
        return self._under("mlflow.db")

    @property
    def mlflow_artifacts(self) -> Path:
        return self._under("mlruns")

    @property
    def reports(self) -> Path:
        """Pictures the CLI draws (``vouch report``)."""
        return self._under("reports")

    @property
    def bench(self) -> Path:
        """The benchmarks' simulated platforms and their JSON figures."""
        return self._under("bench")

    @property
    def artifacts(self) -> Path:
        """What tests leave to look at afterwards (the console's browser screenshots)."""
        return self._under("artifacts")

    @property
    def scratch(self) -> Path:
        """Working files a step spills to disk and removes when it ends (on the data disk, not
        a RAM-backed /tmp: spilling is there to save memory)."""
        return self._under("scratch")

    @property
    def dagster_home(self) -> Path:
        """DAGSTER_HOME: the instance shared by the CLI and the UI."""
        return self._under("dagster")


@lru_cache
def get_settings() -> Settings:
    return Settings()

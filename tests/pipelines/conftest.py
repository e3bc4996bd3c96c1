"""Shared by the pipeline tests: a fresh PostgreSQL database for a Dagster instance, and a
snapshot day with features and a champion fraud model (the scoring tests)."""

from __future__ import annotations

import shutil
import uuid
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import dagster
import psycopg
import pytest

from pipelines.assets import models as model_assets
from pipelines.definitions import FEATURES
from pipelines.resources import Storage
from settings import Settings
from tests.conftest import SmallLake, require_server

PG_ADMIN = "postgresql://postgres@127.0.0.1:5432/test"


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A fresh database for Dagster's tables, dropped afterwards."""
    try:
        admin = psycopg.connect(PG_ADMIN, autocommit=True, connect_timeout=2)
    except psycopg.OperationalError as exc:
        require_server("PostgreSQL", False, f"{PG_ADMIN}: {exc}")
        raise
    name = f"dagster_test_{uuid.uuid4().hex[:10]}"
    admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"postgresql://postgres@127.0.0.1:5432/{name}"
    finally:
        admin.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
        admin.close()


@dataclass(frozen=True)
class TrainedDay:
    data: Path  # the data dir: lake, features, MLflow
    landing: Path
    day: date

    def settings(self) -> Settings:
        return Settings(data_dir=self.data, landing_dir=self.landing)


@pytest.fixture(scope="session")
def trained_day(small_lake: SmallLake, tmp_path_factory: pytest.TempPathFactory) -> TrainedDay:
    data = tmp_path_factory.mktemp("trained_day") / "data"
    shutil.copytree(small_lake.root / "lake", data / "lake")
    shutil.copytree(small_lake.truth, data / "ground_truth")
    day = small_lake.start + timedelta(days=small_lake.days)
    found = TrainedDay(data=data, landing=small_lake.root / "landing", day=day)
    storage = Storage(found.settings())
    warnings.filterwarnings("ignore", module="dagster")
    with pytest.MonkeyPatch.context() as patch:
        # Ten simulated days are too few for a week-long label horizon.
        patch.setattr(model_assets, "HORIZON", timedelta(days=2))
        patch.setattr(model_assets, "EVERY", timedelta(days=1))
        for assets in (FEATURES, [model_assets.fraud_model]):
            done = dagster.materialize(
                assets, resources={"storage": storage}, partition_key=day.isoformat()
            )
            assert done.success
    return found

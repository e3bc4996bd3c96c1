"""Core API fixtures: settings on a tmp data dir, and a throwaway PostgreSQL schema."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from core_api.app import create_app
from core_api.db.engine import make_engine, make_sessionmaker, upgrade
from settings import Settings
from tests.conftest import require_server

PG_DSN = "postgresql://postgres@127.0.0.1:5432/test"


@pytest.fixture
def sqlite_settings(tmp_path: Path) -> Settings:
    return Settings(data_dir=tmp_path, database_url=None, redis_url=None, nats_url=None)


@pytest.fixture
def pg_settings(tmp_path: Path) -> Iterator[Settings]:
    """Settings whose database is a fresh schema in the real PostgreSQL, dropped afterwards."""
    try:
        admin = psycopg.connect(PG_DSN, autocommit=True, connect_timeout=2)
    except psycopg.OperationalError as exc:
        require_server("PostgreSQL", False, f"{PG_DSN}: {exc}")
        raise  # unreachable: require_server skips or fails
    schema = f"vouch_test_{uuid.uuid4().hex[:12]}"
    admin.execute(f'CREATE SCHEMA "{schema}"')
    # Unqualified names (our tables and alembic_version) resolve to the test schema only.
    url = f"{PG_DSN}?options=-csearch_path%3D{schema}"
    try:
        yield Settings(data_dir=tmp_path, database_url=url, redis_url=None, nats_url=None)
    finally:
        admin.execute(f'DROP SCHEMA "{schema}" CASCADE')
        admin.close()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.integration)])
def any_settings(request: pytest.FixtureRequest) -> Settings:
    """Both backends: the same test runs on the SQLite file and on the real PostgreSQL."""
    name = "sqlite_settings" if request.param == "sqlite" else "pg_settings"
    return request.getfixturevalue(name)


@pytest.fixture
def sessions(any_settings: Settings) -> Iterator[sessionmaker[Session]]:
    """A migrated database on each backend."""
    engine = make_engine(any_settings)
    upgrade(engine)
    yield make_sessionmaker(engine)
    engine.dispose()


CLIENT_IP = "203.0.113.7"


@pytest.fixture
def api(sqlite_settings: Settings) -> Iterator[TestClient]:
    """The app on a tmp data dir (SQLite database and online store); the relay left to tests."""
    with TestClient(
        create_app(sqlite_settings, relay_every_s=None), client=(CLIENT_IP, 50000)
    ) as c:
        yield c


@pytest.fixture
def any_api(any_settings: Settings) -> Iterator[TestClient]:
    """The same app on each database backend."""
    with TestClient(create_app(any_settings, relay_every_s=None), client=(CLIENT_IP, 50000)) as c:
        yield c

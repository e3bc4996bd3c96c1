"""Engine, sessions and migrations for the transactional database.

SQLite file under the data dir by default; PostgreSQL (psycopg 3) when ``VOUCH_DATABASE_URL`` is
set. The schema is owned by the Alembic migrations in ``core_api/migrations``, never by
``create_all``, so production and tests run the same DDL.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine, create_engine, event, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.orm import Session, sessionmaker

from core_api.db import (  # noqa: F401  (registers every table on Base.metadata)
    admin,
    collab,
    escrow,
    files,
    groups,
    identity,
    market,
    money,
    notify,
    outbox,
    review,
    search,
    social,
    subscriptions,
    verification,
)
from core_api.db.base import Base
from settings import Settings

METADATA = Base.metadata
MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"
_MIGRATION_LOCK = 0x766F756368  # any constant: serialises concurrent start-ups on PostgreSQL
# Connections per process. Request sessions hold at most REQUEST_SLOTS of them at once
# (``core_api.deps`` admits that many requests to the database and queues the rest without a
# thread), so the pool never runs dry under them; the rest serve the outbox relay and tools.
# A pool that can run dry deadlocks under load: threads block waiting for a connection while
# the requests holding connections wait for a thread, until the pool's timeout answers 500.
POOL_SIZE = 10
MAX_OVERFLOW = 10
REQUEST_SLOTS = 16


def database_url(settings: Settings) -> URL:
    if not settings.database_url:
        return URL.create("sqlite+pysqlite", database=str(settings.core_database))
    url = make_url(settings.database_url)
    if url.drivername in ("postgresql", "postgres", "postgresql+psycopg2"):
        url = url.set(drivername="postgresql+psycopg")  # one driver, psycopg 3
    return url


def make_engine(settings: Settings, **kwargs: Any) -> Engine:
    url = database_url(settings)
    kwargs = {"pool_size": POOL_SIZE, "max_overflow": MAX_OVERFLOW, **kwargs}
    if url.get_backend_name() != "sqlite":
        return create_engine(url, pool_pre_ping=True, **kwargs)
    if url.database:
        Path(url.database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(url, connect_args={"check_same_thread": False}, **kwargs)
    event.listen(engine, "connect", _sqlite_pragmas)
    return engine


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")  # off by default in SQLite
    cursor.execute("PRAGMA journal_mode=WAL")  # readers do not block the writer
    cursor.execute("PRAGMA busy_timeout=5000")  # wait for the writer instead of failing
    cursor.close()


def make_sessionmaker(engine: Engine) -> sessionmaker[Session]:
    # Objects stay readable after commit: handlers commit, then build their response.
    return sessionmaker(engine, expire_on_commit=False)


def _alembic_config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return config


def upgrade(engine: Engine, revision: str = "heads") -> None:
    """Bring the schema to ``revision``; safe when several processes start at once."""
    with _migrating(engine) as connection:
        if connection.dialect.name == "postgresql":
            connection.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _MIGRATION_LOCK})
        config = _alembic_config()
        config.attributes["connection"] = connection
        command.upgrade(config, revision)


def downgrade(engine: Engine, revision: str) -> None:
    with _migrating(engine) as connection:
        config = _alembic_config()
        config.attributes["connection"] = connection
        command.downgrade(config, revision)


@contextmanager
def _migrating(engine: Engine) -> Iterator[Connection]:
    """One transaction for the migrations. On SQLite, foreign keys are off meanwhile: a batch
    alteration copies a table and drops the old one, and with foreign keys on, that DROP deletes
    its rows first and cascades to every row referencing them (SQLite's procedure for altering a
    table turns them off and checks them before committing; so does this)."""
    with engine.connect() as connection:
        sqlite = connection.dialect.name == "sqlite"
        if sqlite:
            connection.exec_driver_sql("PRAGMA foreign_keys=OFF")  # no-op inside a transaction
            connection.commit()
        try:
            with connection.begin():
                before = _heads(connection) if sqlite else set()
                yield connection
                # A full check reads every table: only when a migration ran, not each start-up.
                if sqlite and _heads(connection) != before:
                    broken = connection.exec_driver_sql("PRAGMA foreign_key_check").all()
                    if broken:
                        raise RuntimeError(f"migration broke foreign keys: {broken[:5]}")
        finally:
            if sqlite:
                connection.exec_driver_sql("PRAGMA foreign_keys=ON")
                connection.commit()


def _heads(connection: Connection) -> set[str]:
    return set(MigrationContext.configure(connection).get_current_heads())


def current_revisions(engine: Engine) -> set[str]:
    """The revisions the database is at: one per branch (each router family may own one)."""
    with engine.connect() as connection:
        return set(MigrationContext.configure(connection).get_current_heads())


def head_revisions() -> set[str]:
    return set(ScriptDirectory.from_config(_alembic_config()).get_heads())

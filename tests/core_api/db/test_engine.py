from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Column, Integer, MetaData, Table, inspect, select

from core_api.db.base import Money, UtcDateTime
from core_api.db.engine import (
    METADATA,
    current_revisions,
    database_url,
    downgrade,
    head_revisions,
    make_engine,
    upgrade,
)
from settings import Settings


def test_default_database_is_a_sqlite_file_under_the_data_dir(sqlite_settings: Settings) -> None:
    url = database_url(sqlite_settings)
    assert url.drivername == "sqlite+pysqlite"
    assert url.database == str(sqlite_settings.data_dir.resolve() / "core.sqlite")


def test_postgres_urls_use_psycopg3(sqlite_settings: Settings) -> None:
    settings = sqlite_settings.model_copy(update={"database_url": "postgresql://u@h/db"})
    assert database_url(settings).drivername == "postgresql+psycopg"


def test_upgrade_empty_database_to_head_matches_the_models(any_settings: Settings) -> None:
    engine = make_engine(any_settings)
    assert current_revisions(engine) == set()
    upgrade(engine)
    upgrade(engine)  # a second start-up is a no-op
    assert current_revisions(engine) == head_revisions()
    with engine.connect() as connection:
        diff = compare_metadata(MigrationContext.configure(connection), METADATA)
    assert diff == []  # the models and the migrations describe the same schema
    downgrade(engine, "base")
    assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
    engine.dispose()


def test_utc_times_and_money_round_trip_exactly(any_settings: Settings) -> None:
    engine = make_engine(any_settings)
    meta = MetaData()
    probe = Table(
        "probe_types",
        meta,
        Column("id", Integer, primary_key=True),
        Column("at", UtcDateTime),
        Column("amount", Money),
    )
    meta.create_all(engine)
    at = datetime(2026, 3, 1, 14, 30, 0, 123456, tzinfo=timezone(timedelta(hours=2)))
    amounts = [Decimal("0.0001"), Decimal("12345678901234.9999"), Decimal("0.1")]
    with engine.begin() as connection:
        for i, amount in enumerate(amounts):
            connection.execute(probe.insert().values(id=i, at=at, amount=amount))
        rows = connection.execute(select(probe.c.at, probe.c.amount).order_by(probe.c.id)).all()
    assert [r.amount for r in rows] == amounts
    assert all(r.at == at and r.at.tzinfo == UTC for r in rows)
    meta.drop_all(engine)
    engine.dispose()


def test_naive_times_and_sub_scale_money_are_refused(sqlite_settings: Settings) -> None:
    dialect = make_engine(sqlite_settings).dialect
    with pytest.raises(ValueError, match="naive"):
        UtcDateTime().process_bind_param(datetime(2026, 1, 1), dialect)
    with pytest.raises(ValueError, match="decimals"):
        Money().process_bind_param(Decimal("0.00001"), dialect)
    with pytest.raises(TypeError):
        Money().process_bind_param(0.1, dialect)  # type: ignore[arg-type]

"""The lake reader's copies of contract names agree with the contract (``core_api.events``)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb
import polars as pl
import pytest
from polars.testing import assert_frame_equal

from core_api.events import envelope
from features import lake
from tests.conftest import SmallLake


def test_lake_system_actor_matches_the_envelope() -> None:
    assert lake.SYSTEM_ACTOR_ID == envelope.SYSTEM_ACTOR_ID


def test_lake_user_subjects_match_the_envelope() -> None:
    users = {str(t.value) for t, kind in envelope.SUBJECT.items() if kind == "user"}
    assert set(lake.USER_SUBJECTS) == users


def test_lake_payload_fields_exist_in_the_contract() -> None:
    fields = {name for model in envelope.PAYLOADS.values() for name in model.model_fields}
    assert set(lake.PAYLOAD_FIELDS) <= fields


def test_lake_context_fields_exist_in_the_contract() -> None:
    assert set(lake.CONTEXT_FIELDS) <= set(envelope.Context.model_fields)


def _one_query(events: Path, *, until: datetime) -> pl.DataFrame:
    """The whole lake in one sorted DuckDB query: what read_flat returned before it read by day."""
    columns = ", ".join(
        ["event_id", "event_type", 'occurred_at AS "at"', "actor_id", "subject_id"]
        + [f"context.{f} AS {f}" for f in lake.CONTEXT_FIELDS]
        + [f"payload.{f} AS {name}" for f, name in lake.PAYLOAD_FIELDS.items()]
    )
    with duckdb.connect() as con:
        con.execute("SET TimeZone = 'UTC'")
        frame = con.sql(
            f"SELECT {columns} FROM read_parquet(?, hive_partitioning = true) "
            "WHERE occurred_at <= ? ORDER BY occurred_at, event_id",
            params=[str(events / "*" / "*.parquet"), until],
        ).pl()
    return frame.cast(lake.FLAT_SCHEMA)


@pytest.mark.parametrize("batch_bytes", [1, 1 << 30])
def test_read_flat_by_day_batches_equals_one_sorted_read(
    small_lake: SmallLake, monkeypatch: pytest.MonkeyPatch, batch_bytes: int
) -> None:
    # 1 byte: one query per day partition; 1 GB: one query for the whole small lake.
    monkeypatch.setattr(lake, "FLAT_BATCH_BYTES", batch_bytes)
    until = datetime.combine(small_lake.start, datetime.min.time(), tzinfo=UTC) + timedelta(
        days=small_lake.days - 3, hours=5
    )
    got = lake.read_flat(small_lake.events, until=until)
    assert got.height > 0
    assert_frame_equal(got, _one_query(small_lake.events, until=until))
    assert lake.read_flat(small_lake.events, until=datetime(2000, 1, 1, tzinfo=UTC)).height == 0

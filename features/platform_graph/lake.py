"""Reading the event lake by its column names (``features`` may not import the ingest code).

The lake is ``<events>/event_date=YYYY-MM-DD/*.parquet`` with the envelope columns plus the
``context`` and ``payload`` structs. Reads go through DuckDB because it pushes projections down
into the payload struct: reading three payload fields of 5M engagements costs ~1.5 s there and
~11 s through polars, which decodes the whole 60-field struct.

Every read is point-in-time: ``before`` keeps ``occurred_at < before`` (and prunes the date
partitions that cannot hold such events); ``since`` keeps ``occurred_at >= since``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import polars as pl

# The envelope's actor for automated actions (core_api.events.envelope.SYSTEM_ACTOR_ID): not a user.
SYSTEM_ACTOR_ID = "00000000-0000-0000-0000-000000000000"

# A lake events directory, or a frame with the lake's columns (handy for tests and notebooks).
EventSource = Path | str | pl.DataFrame


def utc(value: datetime) -> datetime:
    """Naive datetimes are read as UTC, so callers cannot shift a cut-off by a local offset."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _relation(con: duckdb.DuckDBPyConnection, source: EventSource) -> tuple[str, bool]:
    """The FROM clause for a source, and whether it has the ``event_date`` partition column."""
    if isinstance(source, pl.DataFrame):
        con.register("lake_events", source.to_arrow())
        return "lake_events", "event_date" in source.columns
    root = Path(source)
    if not any(root.glob("*/*.parquet")):
        raise FileNotFoundError(f"no event partitions under {root}")
    return f"read_parquet('{root}/*/*.parquet', hive_partitioning = true)", True


def read_events(
    source: EventSource,
    columns: Mapping[str, str],
    *,
    types: Iterable[str] | None = None,
    before: datetime | None = None,
    since: datetime | None = None,
    where: str | None = None,
    group_by: Sequence[str] | None = None,
) -> pl.DataFrame:
    """One frame with ``columns`` (output name -> SQL expression over the lake's columns).

    ``group_by`` names output columns to group on (the other expressions then aggregate), so
    big reductions run inside DuckDB. Timestamps come back as ``Datetime("us", "UTC")``.
    """
    con = duckdb.connect()
    try:
        con.execute("SET TimeZone = 'UTC'")
        relation, partitioned = _relation(con, source)
        select = ", ".join(f"{expr} AS {name}" for name, expr in columns.items())
        clauses: list[str] = []
        params: list[object] = []
        if types is not None:
            wanted = sorted(set(types))
            clauses.append(f"event_type IN ({', '.join('?' for _ in wanted)})")
            params.extend(wanted)
        if before is not None:
            clauses.append("occurred_at < ?")
            params.append(utc(before))
            if partitioned:  # lets DuckDB skip whole date partitions
                clauses.append("event_date <= ?")
                params.append(utc(before).date())
        if since is not None:
            clauses.append("occurred_at >= ?")
            params.append(utc(since))
            if partitioned:
                clauses.append("event_date >= ?")
                params.append(utc(since).date())
        if where:
            clauses.append(f"({where})")
        sql = f"SELECT {select} FROM {relation}"
        if clauses:
            sql += " WHERE " + " AND ".join(clauses)
        if group_by:
            sql += " GROUP BY " + ", ".join(group_by)
        frame = con.sql(sql, params=params).pl()
    finally:
        con.close()
    return frame.with_columns(
        pl.col(name).dt.convert_time_zone("UTC")
        for name, dtype in frame.schema.items()
        if isinstance(dtype, pl.Datetime)
    )

"""DuckDB views over the lake: ``events``, ``quarantine`` and one typed view per event type;
with a feature root, also the feature-store views (``pipelines.feature_store.VIEWS``)."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq

from core_api.events import LAKE_SCHEMA, PAYLOADS, SUBJECT, type_fields
from pipelines.feature_store import create_views
from pipelines.ingest.lake import QUARANTINE_SCHEMA, Lake


def _source(directory: Path, *, anchor: Path, schema: pa.Schema, partition: str) -> str:
    if any(directory.glob("*/*.parquet")):
        return f"read_parquet('{directory}/*/*.parquet', hive_partitioning = true)"
    # No data yet: an empty file with the right columns keeps every view (and query) valid.
    anchor.parent.mkdir(parents=True, exist_ok=True)
    empty = schema.append(pa.field(partition, pa.date32())).empty_table()
    pq.write_table(empty, anchor)
    return f"read_parquet('{anchor}')"


def typed_view_sql(event_type: str) -> str:
    subject = SUBJECT[event_type]
    subject_col = "subject_id" if subject == "user" else f"subject_id AS {subject}_id"
    fields = ", ".join(f"payload.{name} AS {name}" for name in type_fields(event_type))
    return (
        f"SELECT event_id, occurred_at, event_date, actor_id, {subject_col}, context"
        f"{', ' + fields if fields else ''} FROM events WHERE event_type = '{event_type}'"
    )


def refresh_views(lake: Lake, database: Path, *, features: Path | None = None) -> dict[str, int]:
    """(Re)create the views; returns row counts of ``events`` and ``quarantine`` (and, given
    ``features``, how many feature tables had data to make a view of)."""
    database.parent.mkdir(parents=True, exist_ok=True)
    with duckdb.connect(str(database)) as con:
        con.execute(
            "CREATE OR REPLACE VIEW events AS SELECT * FROM "
            + _source(
                lake.events_dir,
                anchor=lake.schema_dir / "events.parquet",
                schema=LAKE_SCHEMA,
                partition="event_date",
            )
        )
        con.execute(
            "CREATE OR REPLACE VIEW quarantine AS SELECT * FROM "
            + _source(
                lake.quarantine_dir,
                anchor=lake.schema_dir / "quarantine.parquet",
                schema=QUARANTINE_SCHEMA,
                partition="landing_date",
            )
        )
        for event_type in PAYLOADS:
            con.execute(
                f"CREATE OR REPLACE VIEW {event_type.value.lower()} AS {typed_view_sql(event_type)}"
            )
        counts = {
            name: con.execute(f"SELECT count(*) FROM {name}").fetchone()[0]
            for name in ("events", "quarantine")
        }
        if features is not None:
            counts["feature_views"] = len(create_views(con, features))
        return counts

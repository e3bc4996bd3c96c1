"""What is in the lake, in numbers: for the demo's report and for a first look in a notebook."""

from __future__ import annotations

from pathlib import Path

import duckdb


def lake_summary(database: Path) -> dict[str, list[tuple]]:
    """Events by type, events by day, quarantine by reason (from the warehouse views)."""
    with duckdb.connect(str(database), read_only=True) as con:
        return {
            "by_type": con.execute(
                "SELECT event_type, count(*) AS n FROM events GROUP BY 1 ORDER BY n DESC"
            ).fetchall(),
            "by_day": con.execute(
                "SELECT event_date, count(*) AS n, count(DISTINCT actor_id) AS actors "
                "FROM events GROUP BY 1 ORDER BY 1"
            ).fetchall(),
            "quarantine": con.execute(
                "SELECT reason, coalesce(field, '') AS field, count(*) AS n "
                "FROM quarantine GROUP BY 1, 2 ORDER BY n DESC"
            ).fetchall(),
        }

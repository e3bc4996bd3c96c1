"""Checks on what an ingest wrote, computed from the files on disk, not from its own tally.

Lake and quarantine rows are counted from the written files' footers. Landing records are the
counts taken when the ingest read each file, vouched for by the file's size on disk: re-reading
the whole landing (GBs) to count its lines again cost the ingest a tenth of its time. A file
whose size changed since, or one the report has no count for, is read and counted again.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq

from core_api.events import LAKE_SCHEMA
from pipelines.ingest import IngestReport
from pipelines.ingest.lake import QUARANTINE_SCHEMA, Lake
from pipelines.ingest.lines import count_records


@dataclass(frozen=True)
class Verdict:
    passed: bool
    summary: str
    metadata: dict = field(default_factory=dict)


def _rows(files: list[Path]) -> int:
    return sum(pq.read_metadata(f).num_rows for f in files)


def _written(lake: Lake, report: IngestReport) -> tuple[list[Path], list[Path]]:
    pattern = f"*/part-{report.tag}.parquet"
    return sorted(lake.events_dir.glob(pattern)), sorted(lake.quarantine_dir.glob(pattern))


def _records(report: IngestReport, landing: Path) -> int:
    total = 0
    for source in report.files:
        path = landing / source
        size, records = report.landed.get(source, (-1, 0))
        if path.stat().st_size != size:
            records = count_records(path.read_bytes())
        total += records
    return total


def reconciled(reports: list[IngestReport], *, lake: Lake, landing: Path) -> Verdict:
    """read = ingested + duplicates + quarantined, with the outputs recounted from disk."""
    bad = []
    for r in reports:
        records = _records(r, landing)
        events, quarantine = _written(lake, r)
        in_lake, in_quarantine = _rows(events), _rows(quarantine)
        if not (
            records == r.read
            and in_lake == r.ingested
            and in_quarantine == r.quarantined
            and r.read == r.ingested + r.duplicates + r.quarantined
        ):
            bad.append(
                f"{r.landing_date}: landing {records} records, report read {r.read}, "
                f"lake {in_lake}/{r.ingested}, quarantine {in_quarantine}/{r.quarantined}, "
                f"duplicates {r.duplicates}"
            )
    return Verdict(
        not bad, "; ".join(bad) or "every record accounted for", {"partitions": len(reports)}
    )


def _logical(t: pa.DataType) -> object:
    """A type up to its physical encoding: string, large_string and string_view are one type."""
    if pa.types.is_struct(t):
        return tuple((t.field(i).name, _logical(t.field(i).type)) for i in range(t.num_fields))
    if pa.types.is_large_string(t) or pa.types.is_string_view(t):
        return "string"
    if pa.types.is_large_binary(t) or pa.types.is_binary_view(t):
        return "binary"
    return str(t)


def same_columns(found: pa.Schema, wanted: pa.Schema) -> bool:
    """Same column names, in order, with the same logical types (nested ones included)."""
    return [(f.name, _logical(f.type)) for f in found] == [
        (f.name, _logical(f.type)) for f in wanted
    ]


def schema_matches(reports: list[IngestReport], *, lake: Lake) -> Verdict:
    wrong = []
    for r in reports:
        events, quarantine = _written(lake, r)
        for files, schema in ((events, LAKE_SCHEMA), (quarantine, QUARANTINE_SCHEMA)):
            wrong += [str(f) for f in files if not same_columns(pq.read_schema(f), schema)]
    return Verdict(not wrong, f"{len(wrong)} files off the contract schema", {"files": wrong[:20]})


def ids_unique(reports: list[IngestReport], *, lake: Lake) -> Verdict:
    """No event_id twice in any event partition this run wrote to."""
    days = sorted({d for r in reports for d in r.by_event_date})
    if not days:
        return Verdict(True, "nothing written")
    globs = [str(lake.events_dir / f"event_date={d}" / "*.parquet") for d in days]
    with duckdb.connect() as con:
        total, distinct = con.execute(
            "SELECT count(*), count(DISTINCT event_id) FROM read_parquet($globs)", {"globs": globs}
        ).fetchone()
    return Verdict(
        total == distinct,
        f"{total - distinct} repeated ids",
        {"partitions": len(days), "rows": total},
    )


def volume_in_range(
    reports: list[IngestReport], *, lake: Lake, trailing: int = 7, tolerance: float = 3.0
) -> Verdict:
    """Records read per landing day within [median/tolerance, median*tolerance] of trailing days."""
    latest: dict[str, int] = {}
    for log in lake.read_logs():  # re-runs read the same files: any run's count will do
        latest[log["landing_date"]] = max(log["read"], latest.get(log["landing_date"], 0))
    odd = []
    for r in reports:
        day = r.landing_date.isoformat()
        history = [latest[d] for d in sorted(latest) if d < day][-trailing:]
        if len(history) < 3:
            continue
        median = statistics.median(history)
        if not median / tolerance <= r.read <= median * tolerance:
            odd.append(f"{day}: {r.read} vs trailing median {median:.0f}")
    return Verdict(not odd, "; ".join(odd) or "volumes in range", {"checked": len(reports)})

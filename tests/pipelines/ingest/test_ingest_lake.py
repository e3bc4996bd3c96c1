from __future__ import annotations

import uuid
from datetime import date
from pathlib import Path

import duckdb
import polars as pl
import pytest

from pipelines.ingest import IngestReport, Lake, ingest_landing, landing_partitions
from pipelines.ingest import checks as ingest_checks
from pipelines.ingest.views import refresh_views
from tests.conftest import NOW, wire

DAY = date(2026, 8, 9)  # the day tests.conftest.wire() events happen

# One line of every kind the ingest must refuse, with the reason it must give.
BAD_LINES: list[tuple[bytes, str]] = [
    (b'{"event_id": "7c1e', "truncated_line"),
    (b"{not json at all}", "invalid_json"),
    (b'{"event_id": "\xff\xfe"}', "invalid_utf8"),
    (b'"just a string"', "not_an_object"),
    (b"[1, 2, 3]", "not_an_object"),
    (wire(actor_id=5), "wrong_type"),
    (
        wire(
            payload={
                "listing_id": str(uuid.uuid4()),
                "seller_id": str(uuid.uuid4()),
                "amount": "1.00",
                "currency": "EUR",
            }
        ),
        "missing_field",
    ),  # no quantity
    (wire(extra_field=1), "unknown_field"),
    (wire(event_type="ORDER_TELEPORTED"), "unknown_event_type"),
    (wire(event_id="1234"), "malformed_id"),
    (wire(occurred_at="yesterday"), "bad_timestamp"),
    (wire(occurred_at="2099-01-01T00:00:00Z"), "future_timestamp"),
    (b'{"pad":"' + b"x" * (1 << 20) + b'"}', "oversized_line"),
    (wire(schema_version=9), "unsupported_schema_version"),
    (b'{"event_id":"a","event_id":"b"}', "duplicate_key"),
]


def _landing(tmp_path: Path, files: dict[str, bytes]) -> Path:
    landing = tmp_path / "landing"
    for name, content in files.items():
        path = landing / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content)
    return landing


def _ingest(landing: Path, lake: Lake) -> list[IngestReport]:
    return [
        ingest_landing(files, landing=landing, lake=lake, landing_date=day, now=NOW)
        for day, files in sorted(landing_partitions(landing).items())
    ]


def test_every_bad_kind_is_quarantined_with_its_reason_and_bytes(tmp_path: Path) -> None:
    good = [wire() for _ in range(50)]
    body = b"\n".join(good[:25] + [line for line, _ in BAD_LINES] + good[25:]) + b"\n"
    landing = _landing(tmp_path, {f"{DAY}/a.ndjson": body})
    lake = Lake(tmp_path / "lake")
    (report,) = _ingest(landing, lake)
    assert (report.read, report.ingested, report.quarantined) == (65, 50, 15)
    assert report.balanced and report.duplicates == 0
    q = pl.read_parquet(lake.quarantine_dir / "*" / "*.parquet").sort("line")
    assert q.get_column("reason").to_list() == [reason for _, reason in BAD_LINES]
    assert q.get_column("raw").to_list() == [line for line, _ in BAD_LINES]
    assert q.get_column("line").to_list() == list(range(26, 41))
    verdict = ingest_checks.reconciled([report], lake=lake, landing=landing)
    assert verdict.passed, verdict.summary


def test_reingest_adds_nothing_and_duplicates_are_counted(tmp_path: Path) -> None:
    lines = [wire() for _ in range(20)]
    landing = _landing(
        tmp_path,
        {
            f"{DAY}/a.ndjson": b"\n".join([*lines[:15], lines[0], b"[]"]) + b"\n",
            f"{DAY}/b.ndjson": b"\n".join(lines[10:]) + b"\n",  # overlaps a.ndjson: re-delivery
        },
    )
    lake = Lake(tmp_path / "lake")
    (first,) = _ingest(landing, lake)
    assert (first.read, first.ingested, first.duplicates, first.quarantined) == (27, 20, 1 + 5, 1)
    (second,) = _ingest(landing, lake)
    assert (second.read, second.ingested, second.duplicates, second.quarantined) == (27, 0, 27, 0)
    events = pl.read_parquet(lake.events_dir / "*" / "*.parquet")
    assert events.height == 20 and events.get_column("event_id").n_unique() == 20


def test_late_events_land_in_the_partition_of_their_own_day(tmp_path: Path) -> None:
    late = wire(occurred_at="2026-08-02T23:59:59.999999Z")
    landing = _landing(tmp_path, {f"{DAY}/a.ndjson": late + b"\n" + wire() + b"\n"})
    lake = Lake(tmp_path / "lake")
    (report,) = _ingest(landing, lake)
    assert report.late == 1
    assert report.by_event_date == {"2026-08-02": 1, "2026-08-09": 1}
    assert len(list(lake.event_partition(date(2026, 8, 2)).glob("*.parquet"))) == 1


def test_blank_lines_crlf_and_odd_spacing_are_handled(tmp_path: Path) -> None:
    spaced = b'  { "event_id" : ' + wire()[len(b'{"event_id":') :]
    body = wire() + b"\r\n\r\n   \n" + spaced + b"\n" + wire()  # no final newline
    landing = _landing(tmp_path, {f"{DAY}/a.ndjson": body})
    (report,) = _ingest(landing, Lake(tmp_path / "lake"))
    assert (report.read, report.ingested, report.quarantined) == (3, 3, 0)


def test_lake_rows_are_normalised(tmp_path: Path) -> None:
    upper = wire(actor_id="ABCDEF00-0000-4000-8000-000000000001")
    landing = _landing(tmp_path, {f"{DAY}/a.ndjson": upper + b"\n"})
    lake = Lake(tmp_path / "lake")
    _ingest(landing, lake)
    row = pl.read_parquet(lake.events_dir / "*" / "*.parquet").row(0, named=True)
    assert row["actor_id"] == "abcdef00-0000-4000-8000-000000000001"
    assert str(row["payload"]["amount"]) == "12.5000"
    assert row["source"] == f"{DAY}/a.ndjson" and row["line"] == 1


def test_views_expose_events_quarantine_and_typed_tables(tmp_path: Path) -> None:
    landing = _landing(
        tmp_path, {f"{DAY}/a.ndjson": b"\n".join([wire(), wire("USER_BLOCKED"), b"[]"])}
    )
    lake = Lake(tmp_path / "lake")
    database = tmp_path / "wh.duckdb"
    assert refresh_views(lake, database) == {"events": 0, "quarantine": 0}  # empty lake works
    _ingest(landing, lake)
    assert refresh_views(lake, database) == {"events": 2, "quarantine": 1}
    with duckdb.connect(str(database), read_only=True) as con:
        amount, order_id = con.execute("SELECT amount, order_id FROM order_placed").fetchone()
        assert str(amount) == "12.5000" and len(order_id) == 36
        assert con.execute("SELECT count(*) FROM user_blocked").fetchone() == (1,)


@pytest.mark.parametrize("name", ["volume", "schema", "unique"])
def test_checks_pass_on_a_clean_ingest(tmp_path: Path, name: str) -> None:
    landing = _landing(tmp_path, {f"{DAY}/a.ndjson": b"\n".join(wire() for _ in range(5))})
    lake = Lake(tmp_path / "lake")
    reports = _ingest(landing, lake)
    check = {
        "volume": ingest_checks.volume_in_range,
        "schema": ingest_checks.schema_matches,
        "unique": ingest_checks.ids_unique,
    }[name]
    assert check(reports, lake=lake).passed


def test_reconcile_fails_when_a_written_file_loses_rows(tmp_path: Path) -> None:
    landing = _landing(tmp_path, {f"{DAY}/a.ndjson": b"\n".join(wire() for _ in range(5))})
    lake = Lake(tmp_path / "lake")
    reports = _ingest(landing, lake)
    (written,) = lake.events_dir.glob("*/*.parquet")
    pl.read_parquet(written).head(3).write_parquet(written)
    assert not ingest_checks.reconciled(reports, lake=lake, landing=landing).passed


def test_volume_check_flags_a_collapse(tmp_path: Path) -> None:
    lake = Lake(tmp_path / "lake")
    for d in range(1, 8):
        lake.write_log(
            {"landing_date": f"2026-08-0{d}", "read": 1000}, landing_date=date(2026, 8, d), tag="t"
        )
    report = IngestReport(run_id="r", landing_date=DAY, files=[], read=40)
    assert not ingest_checks.volume_in_range([report], lake=lake).passed


def test_schema_check_fails_on_a_file_off_the_contract(tmp_path: Path) -> None:
    landing = _landing(tmp_path, {f"{DAY}/a.ndjson": b"\n".join(wire() for _ in range(3))})
    lake = Lake(tmp_path / "lake")
    reports = _ingest(landing, lake)
    (written,) = lake.events_dir.glob("*/*.parquet")
    pl.read_parquet(written).drop("source").write_parquet(written)
    assert not ingest_checks.schema_matches(reports, lake=lake).passed


def test_reconcile_counts_a_landing_file_that_changed_since_the_read(tmp_path: Path) -> None:
    landing = _landing(tmp_path, {f"{DAY}/a.ndjson": b"\n".join(wire() for _ in range(5))})
    lake = Lake(tmp_path / "lake")
    reports = _ingest(landing, lake)
    assert reports[0].landed == {
        f"{DAY}/a.ndjson": [(landing / f"{DAY}/a.ndjson").stat().st_size, 5]
    }
    assert ingest_checks.reconciled(reports, lake=lake, landing=landing).passed
    with open(landing / f"{DAY}/a.ndjson", "ab") as grown:
        grown.write(b"\n" + wire())  # landed after the read: the report no longer adds up
    verdict = ingest_checks.reconciled(reports, lake=lake, landing=landing)
    assert not verdict.passed and "landing 6 records, report read 5" in verdict.summary


def test_a_late_event_twice_in_a_batch_is_written_once_to_its_day(tmp_path: Path) -> None:
    late = wire(occurred_at="2026-08-02T12:00:00Z")
    body = b"\n".join([late, wire(), late, wire()]) + b"\n"
    lake = Lake(tmp_path / "lake")
    (report,) = _ingest(_landing(tmp_path, {f"{DAY}/a.ndjson": body}), lake)
    assert (report.ingested, report.duplicates, report.late) == (3, 1, 1)
    assert report.by_event_date == {"2026-08-02": 1, DAY.isoformat(): 2}
    lines = pl.read_parquet(lake.event_partition(date(2026, 8, 2)) / "*.parquet")["line"]
    assert lines.to_list() == [1]  # the first copy, in line order

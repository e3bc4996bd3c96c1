"""Late and duplicate delivery look like at-least-once transport, and nothing else is late."""

from __future__ import annotations

from collections import defaultdict

import polars as pl

from .conftest import Run


def test_late_events_land_in_a_later_folder(honest: Run, events: pl.DataFrame) -> None:
    transport = pl.read_parquet(honest.truth / "transport.parquet")
    late = transport.filter(pl.col("late"))
    assert honest.summary.late == late.height > 0
    delivered = late.join(events, on="event_id")
    assert delivered.height > 0.8 * late.height  # the rest was still in transit at the end
    folder = delivered["file"].str.slice(0, 10)
    occurred = delivered["occurred_at"].str.slice(0, 10)
    assert (folder > occurred).all()
    gap = delivered["arrival_at"].str.to_datetime(time_zone="UTC") - delivered[
        "occurred_at"
    ].str.to_datetime(time_zone="UTC")
    assert gap.dt.total_hours().min() >= 24 and gap.dt.total_hours().max() <= 72
    share = late.height / honest.summary.events
    assert 0.001 < share < 0.006


def test_duplicates_are_identical_redeliveries(honest: Run) -> None:
    seen: dict[bytes, list[tuple[str, int]]] = defaultdict(list)
    for path in honest.files():
        rel = str(path.relative_to(honest.out))
        for i, line in enumerate(path.read_bytes().splitlines()):
            seen[line].append((rel, i))
    repeated = {line: where for line, where in seen.items() if len(where) > 1}
    assert len(repeated) == honest.summary.duplicates > 0
    for where in repeated.values():
        assert len(where) == 2
        (first, _), (second, _) = where
        assert second > first  # files sort by arrival: folder date, then part number
    ids = {line[13:49].decode() for line in repeated}
    transport = pl.read_parquet(honest.truth / "transport.parquet")
    assert ids <= set(transport.filter(pl.col("duplicated"))["event_id"])


def test_on_time_events_arrive_within_minutes(events: pl.DataFrame) -> None:
    sample = events.filter(~pl.col("file").str.ends_with("bootstrap.ndjson"))[::97]
    folder = sample["file"].str.slice(0, 10)
    occurred = sample["ts"].str.slice(0, 10)
    assert (folder >= occurred).all()
    assert (folder == occurred).mean() > 0.98

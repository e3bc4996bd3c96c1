from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

from pipelines.partitions import LANDING_DAYS, first_day
from settings import Settings


def test_first_day_is_the_earliest_landing_or_logged_day(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, partitions_start=None)
    for name in ("2026-08-03", "2026-08-05", "notes"):
        (settings.landing / name).mkdir(parents=True)
    assert first_day(settings) == date(2026, 8, 3)
    # A day already ingested whose landing files are gone still counts.
    (settings.lake / "_ingest_log" / "landing_date=2026-07-30").mkdir(parents=True)
    assert first_day(settings) == date(2026, 7, 30)


def test_first_day_is_the_setting_when_set_else_today_without_data(tmp_path: Path) -> None:
    fixed = Settings(data_dir=tmp_path, partitions_start=date(2026, 1, 2))
    (fixed.landing / "2025-05-05").mkdir(parents=True)
    assert first_day(fixed) == date(2026, 1, 2)
    empty = Settings(data_dir=tmp_path / "empty", partitions_start=None)
    assert first_day(empty) == datetime.now(UTC).date()


def test_the_loaded_partitions_start_from_the_settings() -> None:
    # tests/conftest.py sets VOUCH_PARTITIONS_START before the definitions are imported.
    assert LANDING_DAYS.start.date() == date(2024, 1, 1)

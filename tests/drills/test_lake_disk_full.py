"""Drill: the lake's disk fills during an ingest (a small tmpfs under the lake), then space returns.

Promises held: the ingest stops with a clear error (``No space left on device``); readers (the
lake's own ``*.parquet`` globs and the DuckDB views) see only whole files and no temporary file
is left behind to hold the space; the re-run after space returns completes, and the lake holds
every valid event exactly once (the same set a run on a roomy disk writes).
"""

from __future__ import annotations

import errno
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import duckdb
import polars as pl
import pyarrow.parquet as pq
import pytest

from cli import main as vouch
from pipelines.ingest import Lake, ingest_days, landing_partitions
from pipelines.ingest.views import refresh_views
from settings import get_settings
from simulator import SimConfig, simulate
from tests.drills.servers import Tmpfs, tmpfs

pytestmark = [pytest.mark.integration, pytest.mark.drill, pytest.mark.timeout(120)]
FULL = "3m"  # a roomy lake of this landing takes ~8 MB on disk


@dataclass(frozen=True)
class Landing:
    path: Path
    days: list[date]
    expected: set[str]  # the event ids a run on a roomy disk puts in the lake


@pytest.fixture(scope="module")
def landing(tmp_path_factory: pytest.TempPathFactory) -> Landing:
    root = tmp_path_factory.mktemp("disk_full")
    config = SimConfig(users=400, days=4, seed=3, faults=0.002)  # some lines to quarantine
    simulate(config, out=root / "landing", truth_out=root / "truth", progress=False)
    days = sorted(landing_partitions(root / "landing"))
    roomy = Lake(root / "roomy")
    ingest_days(root / "landing", days, lake=roomy)
    return Landing(root / "landing", days, set(_ids(roomy)))


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Tmpfs]:
    with tmpfs(tmp_path / "lake", size=FULL) as mounted:
        yield mounted


def _ids(lake: Lake) -> list[str]:
    files = sorted(lake.events_dir.glob("*/*.parquet"))
    if not files:
        return []
    return pl.read_parquet(files).get_column("event_id").cast(pl.String).to_list()


def _whole_files_only(lake: Lake, warehouse: Path) -> int:
    """Every file a reader can see is a whole Parquet file, and no temporary file is left;
    returns the events the DuckDB view counts."""
    assert sorted(p.name for p in lake.root.rglob("*") if p.name.endswith(".tmp")) == []
    for path in lake.root.rglob("*.parquet"):
        pq.read_metadata(path)  # a torn file has no footer
    refresh_views(lake, warehouse)
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return con.execute("SELECT count(*) FROM events").fetchone()[0]


def test_lake_disk_full_fails_cleanly_and_the_rerun_completes_once(
    landing: Landing, small_disk: Tmpfs, tmp_path: Path
) -> None:
    lake = Lake(small_disk.path)
    with pytest.raises(OSError) as failed:
        ingest_days(landing.path, landing.days, lake=lake)
    assert failed.value.errno == errno.ENOSPC, failed.value
    assert "No space left on device" in str(failed.value)
    seen = _whole_files_only(lake, tmp_path / "warehouse.duckdb")
    written = _ids(lake)
    print(f"\ndisk full after {len(written)} of {len(landing.expected)} events")
    assert 0 < len(written) < len(landing.expected) and seen == len(written)

    small_disk.resize("64m")  # space returns
    reports = ingest_days(landing.path, landing.days, lake=lake)
    assert all(r.balanced for r in reports)
    ids = _ids(lake)
    assert len(ids) == len(set(ids)) and set(ids) == landing.expected
    assert _whole_files_only(lake, tmp_path / "warehouse.duckdb") == len(landing.expected)
    again = ingest_days(landing.path, landing.days, lake=lake)
    assert sum(r.ingested for r in again) == 0  # and a third run adds nothing


def test_vouch_ingest_on_a_full_disk_says_so_and_the_rerun_completes_once(
    landing: Landing,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    data = tmp_path / "data"
    monkeypatch.setenv("VOUCH_DATA_DIR", str(data))
    get_settings.cache_clear()
    argv = ["ingest", "--landing", str(landing.path), "--quiet"]
    try:
        with tmpfs(data / "lake", size=FULL) as disk:
            assert vouch(argv) == 1
            said = capsys.readouterr().err
            # Dagster's console log names the step, the error and the file; the CLI the run.
            assert "OSError: [Errno 28] No space left on device" in said, said
            assert "vouch ingest: run" in said and "failed" in said
            disk.resize("64m")
            assert vouch(argv) == 0
            totals = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
            ids = _ids(Lake(disk.path))
    finally:
        get_settings.cache_clear()
    assert len(ids) == len(set(ids)) and set(ids) == landing.expected
    assert totals["read"] == totals["ingested"] + totals["duplicates"] + totals["quarantined"]

from __future__ import annotations

import warnings
from pathlib import Path

import dagster

from pipelines.assets.ingest import lake_events, warehouse_views
from pipelines.definitions import defs
from pipelines.resources import Storage
from settings import Settings
from tests.conftest import wire

warnings.filterwarnings("ignore", module="dagster")


def test_definitions_load_with_every_asset_job_and_check() -> None:
    repo = defs.get_repository_def()
    keys = {k.to_user_string() for k in repo.asset_graph.get_all_asset_keys()}
    assert {"lake_events", "warehouse_views"} <= keys
    assert defs.resolve_job_def("ingest") is not None
    checks = {c.name for c in lake_events.check_specs}
    assert checks == {
        "reconciled",
        "schema_matches_contract",
        "event_ids_unique",
        "volume_in_range",
    }


def test_assets_materialise_a_landing_range_in_one_run(tmp_path: Path) -> None:
    landing = tmp_path / "landing"
    for day in ("2026-08-09", "2026-08-10"):
        (landing / day).mkdir(parents=True)
        (landing / day / "a.ndjson").write_bytes(b"\n".join([wire(), wire(), b"[]"]) + b"\n")
    storage = Storage(Settings(data_dir=tmp_path / "data", landing_dir=landing))
    result = dagster.materialize(
        [lake_events, warehouse_views],
        resources={"storage": storage},
        tags={
            "dagster/asset_partition_range_start": "2026-08-09",
            "dagster/asset_partition_range_end": "2026-08-10",
        },
    )
    assert result.success
    evaluations = result.get_asset_check_evaluations()
    passed = {e.check_name for e in evaluations if e.passed}
    assert passed == {c.name for c in lake_events.check_specs}
    (views,) = [
        m
        for m in result.get_asset_materialization_events()
        if m.asset_key == dagster.AssetKey("warehouse_views")
    ]
    metadata = views.step_materialization_data.materialization.metadata
    assert metadata["events"].value == 4 and metadata["quarantine"].value == 2

from __future__ import annotations

import warnings
from datetime import UTC, datetime, timedelta
from pathlib import Path

import dagster
import polars as pl
import pytest
from dagster import DefaultSensorStatus

from pipelines.assets.ingest import lake_events, warehouse_views
from pipelines.checks import score_age
from pipelines.definitions import defs
from pipelines.resources import Storage
from serving.publish import USER_SCORES, publish, published_mismatches
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


def test_definitions_list_the_automation_and_freshness_checks() -> None:
    repo = defs.get_repository_def()
    sensors = {s.name: s for s in repo.sensor_defs}
    assert set(sensors) == {
        "landing_sensor",
        "nats_drain_sensor",
        "retrain_sensor",
        "run_failure_alert",
        "daily_automation",
        "freshness_checks_sensor",
    }
    # What launches work waits for ops to switch it on; what only observes runs from the start.
    running = {n for n, s in sensors.items() if s.default_status == DefaultSensorStatus.RUNNING}
    assert running == {"run_failure_alert", "freshness_checks_sensor"}
    assert sensors["landing_sensor"].job_name == "ingest"
    assert sensors["retrain_sensor"].job_name == "retrain"
    checks = {k.to_user_string() for k in repo.asset_graph.asset_check_keys}
    assert {
        "lake_events:freshness_check",
        "published_scores:freshness_check",
        "published_scores:score_age",
        "published_scores:serves_what_was_scored",
        "fraud_model:not_worse_than_champion",
        "fraud_model:floors",
        "feed_ranker:not_worse_than_champion",
        "feed_ranker:beats_chronological",
        "search_ranker:beats_relevance",
        "search_ranker:serves_the_champion",
        "review_queue:cases_well_formed",
        "feed_scores:serves_what_was_scored",
    } <= checks
    graph = repo.asset_graph
    automated = {
        k.to_user_string() for k in graph.get_all_asset_keys() if graph.get(k).automation_condition
    }
    # Everything after the ingest follows it; ingest and retraining come from their sensors.
    everything = {k.to_user_string() for k in graph.get_all_asset_keys()}
    assert automated == everything - {"lake_events", "fraud_model"}


def test_every_asset_has_an_owner_a_group_and_a_one_line_description() -> None:
    graph = defs.get_repository_def().asset_graph
    for key in graph.get_all_asset_keys():
        node = graph.get(key)
        assert node.owners and node.group_name != "default", key
        assert node.description and "\n" not in node.description.strip(), key


def test_score_age_check_reads_what_the_store_serves(tmp_path: Path) -> None:
    storage = Storage(Settings(data_dir=tmp_path / "data"))
    unpublished = score_age(storage=storage)
    assert not unpublished.passed and "nothing is published" in str(unpublished.description)
    now = datetime.now(UTC)
    for hours, fresh in ((30, False), (2, True)):
        scores = pl.DataFrame(
            {
                "user_id": ["u1", "u2"],
                "trust": [0.5, 0.9],
                "fraud_risk": [0.01, 0.7],
                "band": ["low", "high"],
                "reasons": [[], ["shared device"]],
                "model_version": ["vouch-fraud/1"] * 2,
                "scored_at": [now - timedelta(hours=hours)] * 2,
            },
            schema=USER_SCORES,
        )
        store = storage.online_store()
        try:
            publish(store, scores, snapshot="2026-12-07")
            assert published_mismatches(store, scores, snapshot="2026-12-07") == []
            assert published_mismatches(store, scores, snapshot="2026-12-06") != []
        finally:
            store.close()
        result = score_age(storage=storage)
        assert result.passed is fresh, result.description
        assert result.metadata["age_hours"].value == pytest.approx(hours, abs=0.1)

"""The daily chain's declarative automation, evaluated against a temporary instance: nothing runs
before the day's ingest; after it the chain follows step by step, waits for blocking checks,
and scores the day with the champion without retraining the fraud model."""

from __future__ import annotations

import warnings
from datetime import UTC, datetime, timedelta
from pathlib import Path

import dagster as dg

from pipelines.assets.ingest import lake_events
from pipelines.definitions import FRESHNESS, defs
from pipelines.partitions import SHARDS
from pipelines.resources import Storage
from settings import Settings
from tests.conftest import wire

warnings.filterwarnings("ignore", module="dagster")

DAY = "2026-12-07"  # the snapshot day: events before 00:00, so after landing day 12-06
NOON = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)


def _requested(result: dg.EvaluateAutomationConditionsResult) -> dict[str, list[str]]:
    """Asset -> requested partitions (checks left out: ``score_age`` runs on its own clock)."""
    found: dict[str, list[str]] = {}
    for evaluation in result.results:
        key = evaluation.key
        if isinstance(key, dg.AssetKey) and evaluation.true_subset.size:
            subset = evaluation.true_subset
            keys = (
                sorted(subset.expensively_compute_partition_keys()) if subset.is_partitioned else []
            )
            found[key.to_user_string()] = keys
    return found


def _done(instance: dg.DagsterInstance, asset: str, checks: tuple[str, ...] = ()) -> None:
    instance.report_runless_asset_event(dg.AssetMaterialization(asset, partition=DAY))
    for name in checks:
        instance.report_runless_asset_event(
            dg.AssetCheckEvaluation(asset_key=dg.AssetKey(asset), check_name=name, passed=True)
        )


def test_the_daily_chain_follows_the_ingest_and_skips_the_retrain(tmp_path: Path) -> None:
    (tmp_path / "landing" / "2026-12-06").mkdir(parents=True)
    (tmp_path / "landing" / "2026-12-06" / "a.ndjson").write_bytes(wire() + b"\n")
    storage = Storage(Settings(data_dir=tmp_path / "data", landing_dir=tmp_path / "landing"))
    with dg.DagsterInstance.ephemeral() as instance:

        def tick(minutes: int, cursor: object) -> dg.EvaluateAutomationConditionsResult:
            return dg.evaluate_automation_conditions(
                defs=defs,
                instance=instance,
                evaluation_time=NOON + timedelta(minutes=minutes),
                cursor=cursor,  # type: ignore[arg-type]
            )

        before = tick(0, None)
        assert _requested(before) == {}  # no ingest yet: nothing to follow

        ingest = dg.materialize(
            [lake_events],
            instance=instance,
            resources={"storage": storage},
            partition_key="2026-12-06",
        )
        assert ingest.success
        after = tick(1, before.cursor)
        # trust_scores comes along with trust_graph (no blocking check between them); what reads
        # trust_scores waits for its blocking checks.
        assert _requested(after) == {
            "warehouse_views": [],
            "trust_graph": [DAY],
            "trust_scores": [DAY],
            "feed_timelines": [DAY],
        }
        assert _requested(tick(2, after.cursor)) == {}  # requested once, not every tick

        _done(instance, "trust_graph")
        _done(instance, "trust_scores", ("schema", "ranges", "drift"))
        features = tick(3, after.cursor)
        assert set(_requested(features)) == {"fraud_features", "feed_training"}

        _done(instance, "fraud_features", ("schema",))
        _done(instance, "feed_training", ("schema", "labels"))
        models = tick(4, features.cursor)
        # The shards do not wait for a fraud_model of the day: the champion scores them.
        requested = _requested(models)
        assert set(requested) == {"feed_ranker", "user_score_shards"}
        shards = SHARDS.get_partition_keys()
        assert requested["user_score_shards"] == sorted(f"{DAY}|{k}" for k in shards)

        # user_scores gathers the day once every shard is in.
        for shard in shards:
            instance.report_runless_asset_event(
                dg.AssetMaterialization(
                    "user_score_shards",
                    partition=dg.MultiPartitionKey({"day": DAY, "shard": shard}),
                )
            )
        _done(instance, "feed_ranker")
        gather = tick(5, models.cursor)
        assert set(_requested(gather)) == {"user_scores"}


def test_freshness_checks_pass_for_a_fresh_lake_and_fail_for_scores_never_published() -> None:
    with dg.DagsterInstance.ephemeral() as instance:
        instance.report_runless_asset_event(
            dg.AssetMaterialization("lake_events", partition="2026-12-06")
        )
        keys = {key for checks in FRESHNESS for key in checks.check_keys}
        job = defs.get_implicit_global_asset_job_def()
        run = job.get_subset(asset_check_selection=keys, asset_selection=set())
        result = run.execute_in_process(instance=instance)
    verdicts = {e.asset_key.to_user_string(): e for e in result.get_asset_check_evaluations()}
    assert set(verdicts) == {"lake_events", "published_scores"}
    assert verdicts["lake_events"].passed
    published = verdicts["published_scores"]
    assert not published.passed and published.severity == dg.AssetCheckSeverity.ERROR
    assert "never been observed/materialized" in str(published.description)

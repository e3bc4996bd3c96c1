"""The automation sensors evaluated against a temporary Dagster instance: landing files -> ingest
requests, review decisions -> a retrain request, NATS absent -> a skip with the reason."""

from __future__ import annotations

import uuid
import warnings
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from dagster import (
    AssetMaterialization,
    DagsterInstance,
    RunRequest,
    SensorDefinition,
    SensorResult,
    SkipReason,
    build_sensor_context,
)

from core_api.events import new_event, to_wire
from pipelines.ingest import ingest_days
from pipelines.resources import Storage
from pipelines.sensors import landing_sensor, nats_drain_sensor, retrain_sensor
from settings import Settings
from tests.conftest import wire

warnings.filterwarnings("ignore", module="dagster")


@pytest.fixture
def instance() -> Iterator[DagsterInstance]:
    with DagsterInstance.ephemeral() as found:
        yield found


def _storage(tmp_path: Path, **settings: object) -> Storage:
    return Storage(
        Settings(data_dir=tmp_path / "data", landing_dir=tmp_path / "landing", **settings)
    )


def _land(storage: Storage, day: str, name: str, lines: list[bytes]) -> None:
    folder = storage.landing / day
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_bytes(b"".join(line + b"\n" for line in lines))


def _evaluate(
    sensor: SensorDefinition, instance: DagsterInstance, storage: Storage, cursor: str | None
) -> SensorResult | SkipReason:
    context = build_sensor_context(instance=instance, cursor=cursor, resources={"storage": storage})
    result = sensor(context)
    assert isinstance(result, SensorResult | SkipReason)
    return result


def test_landing_sensor_requests_each_changed_landing_day_once(
    tmp_path: Path, instance: DagsterInstance
) -> None:
    storage = _storage(tmp_path)
    skipped = _evaluate(landing_sensor, instance, storage, None)
    assert isinstance(skipped, SkipReason) and "no new landing files" in str(skipped.skip_message)

    _land(storage, "2026-08-09", "a.ndjson", [wire(), wire()])
    _land(storage, "2026-08-10", "a.ndjson", [wire()])
    first = _evaluate(landing_sensor, instance, storage, None)
    assert isinstance(first, SensorResult)
    assert [r.partition_key for r in first.run_requests or []] == ["2026-08-09", "2026-08-10"]
    assert {r.tags["vouch/trigger"] for r in first.run_requests or []} == {"landing_sensor"}

    again = _evaluate(landing_sensor, instance, storage, first.cursor)
    assert isinstance(again, SkipReason)  # nothing new: no duplicate request

    _land(storage, "2026-08-10", "b.ndjson", [wire()])  # a late file for a day already ingested
    later = _evaluate(landing_sensor, instance, storage, first.cursor)
    assert isinstance(later, SensorResult)
    (request,) = later.run_requests or []
    (before,) = [r for r in first.run_requests or [] if r.partition_key == "2026-08-10"]
    assert request.partition_key == "2026-08-10" and request.run_key != before.run_key


def test_landing_sensor_leaves_a_day_outside_the_partitions_for_later(
    tmp_path: Path, instance: DagsterInstance
) -> None:
    storage = _storage(tmp_path)
    tomorrow = (datetime.now(UTC).date() + timedelta(days=2)).isoformat()
    _land(storage, tomorrow, "a.ndjson", [wire()])
    result = _evaluate(landing_sensor, instance, storage, None)
    assert isinstance(result, SkipReason)


def _verdict(decision: str) -> bytes:
    return to_wire(
        new_event(
            "REVIEW_DECISION",
            actor_id=uuid.uuid4(),
            subject_id=uuid.uuid4(),
            payload={"decision": decision, "case_id": uuid.uuid4()},
            occurred_at=datetime(2026, 8, 9, 10, 0, tzinfo=UTC),
        )
    )


def _ingest(storage: Storage, day: str, lines: list[bytes]) -> None:
    _land(storage, day, f"{uuid.uuid4().hex}.ndjson", lines)
    ingest_days(storage.landing, [date.fromisoformat(day)], lake=storage.lake)


def _materialise(instance: DagsterInstance, key: str, partition: str) -> None:
    instance.report_runless_asset_event(AssetMaterialization(asset_key=key, partition=partition))


def test_retrain_sensor_requests_once_enough_verdicts_arrived(
    tmp_path: Path, instance: DagsterInstance
) -> None:
    storage = _storage(tmp_path, retrain_min_labels=3)
    # Escalations are no label; an order is no verdict at all.
    _ingest(storage, "2026-08-09", [_verdict("confirmed_fraud"), _verdict("cleared")])
    _ingest(storage, "2026-08-09", [_verdict("escalated"), wire()])
    few = _evaluate(retrain_sensor, instance, storage, None)
    assert isinstance(few, SkipReason)
    assert "2 review decisions ever; retraining takes 3" in str(few.skip_message)

    _ingest(storage, "2026-08-10", [_verdict("confirmed_fraud")])
    nothing_to_train = _evaluate(retrain_sensor, instance, storage, None)
    assert isinstance(nothing_to_train, SkipReason)
    assert "no fraud_features" in str(nothing_to_train.skip_message)

    for day in ("2026-08-09", "2026-08-10"):
        _materialise(instance, "fraud_features", day)
    requested = _evaluate(retrain_sensor, instance, storage, None)
    assert isinstance(requested, SensorResult)
    (request,) = requested.run_requests or []
    assert isinstance(request, RunRequest) and request.partition_key == "2026-08-10"
    assert request.tags["vouch/new_labels"] == "3"

    again = _evaluate(retrain_sensor, instance, storage, requested.cursor)
    assert isinstance(again, SkipReason) and "already requested" in str(again.skip_message)

    _materialise(instance, "fraud_model", "2026-08-10")  # the retrain ran: the count restarts
    after = _evaluate(retrain_sensor, instance, storage, requested.cursor)
    assert isinstance(after, SkipReason)
    assert str(after.skip_message).startswith("0 review decisions since the last training")


def test_nats_drain_sensor_skips_with_the_reason_when_nats_is_absent(
    tmp_path: Path, instance: DagsterInstance
) -> None:
    unset = _evaluate(nats_drain_sensor, instance, _storage(tmp_path), None)
    assert isinstance(unset, SkipReason) and "VOUCH_NATS_URL is unset" in str(unset.skip_message)
    # Port 9 (discard) has no NATS server on it: the sensor skips rather than failing its tick.
    absent = _storage(tmp_path, nats_url="nats://127.0.0.1:9")
    down = _evaluate(nats_drain_sensor, instance, absent, None)
    assert isinstance(down, SkipReason) and "unreachable" in str(down.skip_message)
    assert not list(absent.landing.rglob("*.ndjson"))

"""The sensors that move events through the pipeline without anyone typing a command, and the
one that tells someone when a run fails. Wired (with their jobs) in ``pipelines.definitions``.

- ``landing_sensor``: a landing day whose files changed -> an ingest run of that landing day.
  Its cursor maps each landing day to a digest of its files; a re-run is harmless anyway (the
  lake is exactly-once), the cursor only saves the work.
- ``nats_drain_sensor``: the JetStream stream -> landing files (``landing_sensor`` takes them
  from there); with no ``VOUCH_NATS_URL`` or no server it skips with the reason.
- ``retrain_sensor``: enough new analyst verdicts since the fraud model last trained -> retrain,
  re-score and re-publish the newest snapshot day.
- ``run_failure_alert``: any failed run -> ``pipelines.alerts.alert`` (log + webhook).

Sensors that launch work default to stopped (a fresh checkout's ``make ui`` must not start
ingesting or training on its own); the alert observes only and defaults to running.
No ``from __future__ import annotations`` here: Dagster inspects the context annotations.
"""

import hashlib
import json
from datetime import UTC, datetime
from pathlib import Path

import nats.errors
from dagster import (
    AssetKey,
    DefaultSensorStatus,
    RunFailureSensorContext,
    RunRequest,
    SensorEvaluationContext,
    SensorResult,
    SkipReason,
    run_failure_sensor,
    sensor,
)

from features.fraud.training import review_labels_since
from pipelines.alerts import alert
from pipelines.ingest import landing_partitions
from pipelines.ingest.jetstream import drain_to_landing
from pipelines.partitions import LANDING_DAYS
from pipelines.resources import StorageParam

INGEST_JOB = "ingest"
RETRAIN_JOB = "retrain"
DRAIN_MAX = 50_000  # events per tick: a tick must finish well inside the daemon's 60 s limit
TRIGGER_TAG = "vouch/trigger"


def landing_digests(landing: Path) -> dict[str, str]:
    """Landing day -> a digest of its files' names and sizes. Producers rename complete files
    into place and never append, so a new file is the only change that matters."""
    if not landing.exists():
        return {}
    digests = {}
    for day, files in landing_partitions(landing).items():
        h = hashlib.sha256()
        for path in files:
            h.update(f"{path.relative_to(landing)}\0{path.stat().st_size}\n".encode())
        digests[day.isoformat()] = h.hexdigest()[:16]
    return digests


@sensor(
    name="landing_sensor",
    job_name=INGEST_JOB,
    minimum_interval_seconds=30,
    default_status=DefaultSensorStatus.STOPPED,
    description="New landing files -> an ingest run of their landing day (cursor: files seen)",
)
def landing_sensor(context: SensorEvaluationContext, storage: StorageParam):
    seen: dict[str, str] = json.loads(context.cursor) if context.cursor else {}
    now = landing_digests(storage.landing)
    changed = sorted(day for day, digest in now.items() if seen.get(day) != digest)
    # A day outside the partitions (before their start, or tomorrow's by a skewed clock) cannot
    # be requested; it stays out of the cursor so it is requested once it becomes a partition.
    ready = [day for day in changed if LANDING_DAYS.has_partition_key(day)]
    if len(ready) < len(changed):
        outside = sorted(set(changed) - set(ready))
        context.log.warning(f"landing days outside the partitions: {outside}")
    if not ready:
        return SkipReason(f"no new landing files in {len(now)} days under {storage.landing}")
    requests = [
        RunRequest(
            run_key=f"ingest:{day}:{now[day]}",
            partition_key=day,
            tags={TRIGGER_TAG: "landing_sensor"},
        )
        for day in ready
    ]
    cursor = {**seen, **{day: now[day] for day in ready}}
    return SensorResult(run_requests=requests, cursor=json.dumps(cursor, sort_keys=True))


@sensor(
    name="nats_drain_sensor",
    minimum_interval_seconds=30,
    default_status=DefaultSensorStatus.STOPPED,
    description="JetStream -> NDJSON landing files (then landing_sensor); skips without NATS",
)
def nats_drain_sensor(context: SensorEvaluationContext, storage: StorageParam):
    url = storage.settings.nats_url
    if not url:
        return SkipReason("VOUCH_NATS_URL is unset: events arrive as NDJSON landing files")
    try:
        report = drain_to_landing(url, storage.landing, max_messages=DRAIN_MAX, wait_s=0.5)
    except LookupError as exc:  # the server is up, the stream is not there (yet)
        return SkipReason(str(exc))
    except (OSError, TimeoutError, nats.errors.Error) as exc:
        return SkipReason(f"NATS at {url} unreachable: {type(exc).__name__}: {exc}".rstrip(": "))
    return SkipReason(
        f"drained {report.drained} events into {len(report.files)} landing files"
        + ("; landing_sensor requests their ingest" if report.files else "")
    )


@sensor(
    name="retrain_sensor",
    job_name=RETRAIN_JOB,
    minimum_interval_seconds=600,
    default_status=DefaultSensorStatus.STOPPED,
    description="Enough new review decisions since the fraud model last trained -> retrain, "
    "re-score and re-publish the newest snapshot day (threshold: VOUCH_RETRAIN_MIN_LABELS)",
)
def retrain_sensor(context: SensorEvaluationContext, storage: StorageParam):
    last = context.instance.get_latest_materialization_event(AssetKey("fraud_model"))
    since = None if last is None else datetime.fromtimestamp(last.timestamp, UTC)
    arrived = review_labels_since(storage.lake.events_dir, since=since)
    wanted = storage.settings.retrain_min_labels
    when = "ever" if since is None else f"since the last training at {since:%Y-%m-%d %H:%M} UTC"
    if arrived < wanted:
        return SkipReason(f"{arrived} review decisions {when}; retraining takes {wanted}")
    days = context.instance.get_materialized_partitions(AssetKey("fraud_features"))
    if not days:
        return SkipReason(f"{arrived} review decisions {when}, but no fraud_features to train on")
    day = max(days)  # ISO dates sort as dates
    # One request per training it replaces: until fraud_model materialises again the key stays
    # the same, so a queued or failed retrain is not requested again (the failure alerts).
    key = f"retrain:{day}:{'never' if last is None else int(last.timestamp)}"
    if context.cursor == key:
        return SkipReason(f"retrain of {day} already requested ({arrived} review decisions {when})")
    request = RunRequest(
        run_key=key,
        partition_key=day,
        tags={TRIGGER_TAG: "retrain_sensor", "vouch/new_labels": str(arrived)},
    )
    return SensorResult(run_requests=[request], cursor=key)


@run_failure_sensor(
    name="run_failure_alert",
    default_status=DefaultSensorStatus.RUNNING,
    description="Any failed run -> a structured log record and, when VOUCH_ALERT_WEBHOOK_URL is "
    "set, a JSON POST to it",
)
def run_failure_alert(context: RunFailureSensorContext, storage: StorageParam) -> None:
    run = context.dagster_run
    record = {
        "alert": "dagster_run_failed",
        "run_id": run.run_id,
        "job": run.job_name,
        "partition": run.tags.get("dagster/partition"),
        "trigger": run.tags.get(TRIGGER_TAG) or run.tags.get("dagster/sensor_name"),
        "error": context.failure_event.message,
        "at": datetime.now(UTC).isoformat(),
        "ui_path": f"/runs/{run.run_id}",
    }
    status = alert(record, webhook_url=storage.settings.alert_webhook_url)
    context.log.error(f"run {run.run_id} of {run.job_name} failed; webhook status {status}")

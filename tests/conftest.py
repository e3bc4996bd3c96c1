"""Shared fixtures: tiny valid events, and the rule that a missing server fails under CI=true."""

from __future__ import annotations

import json
import os
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest

# Dagster's daily partitions start where the data dir's landing starts (pipelines/partitions.py),
# decided when the definitions are imported; tests bring days of their own (2026-08-.. and today),
# so they fix the first day rather than depend on whatever ./data holds.
os.environ.setdefault("VOUCH_PARTITIONS_START", "2024-01-01")

from core_api.events import new_event, to_wire
from pipelines.ingest import Lake, ingest_days, landing_partitions
from pipelines.ingest.views import refresh_views
from simulator import SimConfig, simulate

NOW = datetime(2026, 8, 10, 12, 0, tzinfo=UTC)
IN_CI = os.environ.get("CI", "").lower() == "true"


def wire(kind: str = "ORDER_PLACED", **overrides: Any) -> bytes:
    """One valid wire line (no newline); ``overrides`` replace top-level fields after encoding."""
    payloads: dict[str, dict[str, Any]] = {
        "ORDER_PLACED": {
            "listing_id": uuid.uuid4(),
            "seller_id": uuid.uuid4(),
            "amount": "12.50",
            "currency": "EUR",
            "quantity": 1,
        },
        "USER_BLOCKED": {},
        "TRUST_CONNECTION_ADDED": {"edge_type": "friend", "weight": 0.7},
        "POST_ENGAGED": {"engagement": "view", "author_id": uuid.uuid4(), "dwell_ms": 1200},
    }
    event = new_event(
        kind,
        actor_id=uuid.uuid4(),
        subject_id=uuid.uuid4(),
        payload=payloads[kind],
        occurred_at=datetime(2026, 8, 9, 8, 30, tzinfo=UTC),
        context={"device_id": "dev_1", "ip": "10.1.2.3", "country": "DE"},
    )
    if not overrides:
        return to_wire(event)
    obj = json.loads(to_wire(event))
    obj.update(overrides)
    return json.dumps(obj, separators=(",", ":")).encode()


def require_server(name: str, reachable: bool, why: str) -> None:
    """Skip an integration test whose server is absent, except under CI=true, where it fails."""
    if reachable:
        return
    if IN_CI:
        pytest.fail(f"{name} is required under CI=true: {why}")
    pytest.skip(f"{name} not reachable: {why}")


# A small simulated platform, ingested into a real lake once per test session.
@dataclass(frozen=True)
class SmallLake:
    root: Path  # the data dir
    events: Path  # <lake>/events, hive-partitioned by event_date
    warehouse: Path  # DuckDB file with the views
    truth: Path  # the simulator's ground truth (evaluation only)
    start: date
    days: int


@pytest.fixture(scope="session")
def small_lake(tmp_path_factory: pytest.TempPathFactory) -> SmallLake:
    root = tmp_path_factory.mktemp("small_lake")
    config = SimConfig(users=1500, days=10, seed=5)
    simulate(config, out=root / "landing", truth_out=root / "ground_truth", progress=False)
    lake = Lake(root / "lake")
    days = sorted(landing_partitions(root / "landing"))
    ingest_days(root / "landing", days, lake=lake)
    refresh_views(lake, root / "warehouse.duckdb")
    return SmallLake(
        root=root,
        events=lake.events_dir,
        warehouse=root / "warehouse.duckdb",
        truth=root / "ground_truth",
        start=config.start,
        days=config.days,
    )

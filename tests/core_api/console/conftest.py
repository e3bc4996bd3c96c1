"""A tiny platform for the case page: three core accounts, a lake that saw them, a graph
snapshot and scores written by the real ingest and graph builder."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import polars as pl
import pytest
from fastapi.testclient import TestClient

from core_api.events import new_event, to_wire
from features.platform_graph.store import build_snapshot
from pipelines.feature_store import FeatureStore
from pipelines.ingest import Lake, ingest_days, landing_partitions
from settings import Settings
from tests.core_api.console.helpers import account
from tests.core_api.routers.helpers import login

DAY = date(2026, 11, 20)


@dataclass(frozen=True)
class Platform:
    suspect: dict[str, Any]
    device_twin: dict[str, Any]  # shares a device with the suspect in the core database
    lake_twin: dict[str, Any]  # shares a device in the lake and received money from the suspect
    stranger: dict[str, Any]


def _event(kind: str, actor: str, subject: str, payload: dict[str, Any], **context: Any) -> bytes:
    at = datetime.combine(DAY, datetime.min.time(), tzinfo=UTC) + timedelta(hours=9)
    at += timedelta(minutes=len(context.get("device_id", "")) + len(kind))
    return to_wire(
        new_event(
            kind,
            actor_id=actor,
            subject_id=subject,
            payload=payload,
            occurred_at=at,
            context={"ip": "198.51.100.4", "country": "DE", **context},
        )
    )


def write_lake(settings: Settings, lines: list[bytes]) -> None:
    folder = settings.landing / DAY.isoformat()
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{uuid.uuid4().hex}.ndjson").write_bytes(b"\n".join(lines) + b"\n")
    lake = Lake(settings.lake)
    ingest_days(settings.landing, sorted(landing_partitions(settings.landing)), lake=lake)
    build_snapshot(
        lake.events_dir, settings.features / "trust_graph", snapshot_date=DAY + timedelta(days=1)
    )


def write_scores(settings: Settings, risks: dict[str, float]) -> None:
    store = FeatureStore(settings.features)
    at = datetime.combine(DAY, datetime.min.time(), tzinfo=UTC)
    for back in (2, 1, 0):
        day = DAY - timedelta(days=back)
        scored = at - timedelta(days=back)
        store.write(
            "user_scores",
            day,
            frame=pl.DataFrame(
                {
                    "user_id": list(risks),
                    "trust": [0.5] * len(risks),
                    "fraud_risk": [r / (1 + back) for r in risks.values()],
                    "band": ["high" if r / (1 + back) >= 0.5 else "low" for r in risks.values()],
                    "reasons": [["7 accounts share this device"]] * len(risks),
                    "model_version": ["fraud/3"] * len(risks),
                    "scored_at": [scored] * len(risks),
                }
            ),
        )


@pytest.fixture
def platform(api: TestClient) -> Platform:
    settings: Settings = api.app.state.services.settings
    suspect, twin, lake_twin, stranger = (account(api, role=None) for _ in range(4))
    for who in (suspect, twin):
        login(api, who["email"], device="dev-shared")
    login(api, stranger["email"], device="dev-alone")
    s, t = suspect["id"], lake_twin["id"]
    session = str(uuid.uuid4())
    login_payload = {"login_method": "password", "mfa_used": False, "session_id": session}
    write_lake(
        settings,
        [
            _event("USER_LOGGED_IN", s, s, login_payload, device_id="dev-lake"),
            _event("USER_LOGGED_IN", t, t, login_payload, device_id="dev-lake"),
            _event("USER_LOGGED_IN", s, s, login_payload, device_id="dev-lake", country="FR"),
            _event(
                "TRANSFER_SENT",
                s,
                t,
                {"transfer_id": str(uuid.uuid4()), "amount": "250.00", "currency": "EUR"},
                device_id="dev-lake",
            ),
        ],
    )
    write_scores(settings, {s: 0.9, t: 0.6, stranger["id"]: 0.01})
    return Platform(suspect, twin, lake_twin, stranger)

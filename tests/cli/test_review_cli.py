"""`vouch seed-core` and `vouch queue` on a tiny lake and a hand-written queue."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from sqlalchemy import select

from cli import main
from core_api.db.engine import make_engine, make_sessionmaker
from core_api.db.identity import Device, User
from core_api.db.review import ReviewCase
from core_api.events import new_event, to_wire
from pipelines.feature_store import FeatureStore
from settings import Settings, get_settings

T = datetime(2026, 8, 9, 8, 30, tzinfo=UTC)
ALICE, MALLORY = str(uuid.uuid4()), str(uuid.uuid4())


def _line(kind: str, user: str, payload: dict[str, Any], *, minutes: int = 0) -> bytes:
    event = new_event(
        kind,
        actor_id=user,
        subject_id=user,
        payload=payload,
        occurred_at=T + timedelta(minutes=minutes),
    )
    return to_wire(event)


@pytest.fixture
def settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Settings]:
    monkeypatch.setenv("VOUCH_DATA_DIR", str(tmp_path / "data"))
    get_settings.cache_clear()
    yield get_settings()
    get_settings.cache_clear()


def _lake(settings: Settings) -> None:
    landing = settings.landing / "2026-08-09"
    landing.mkdir(parents=True)
    lines = [
        _line("USER_REGISTERED", ALICE, {"email_domain": "Mail.example", "signup_channel": "web"}),
        _line("USER_REGISTERED", MALLORY, {"email_domain": "x.example", "signup_channel": "ios"}),
        _line("DEVICE_ADDED", MALLORY, {"device_id": "fp_m1", "platform": "ios"}, minutes=1),
        _line("VERIFICATION_COMPLETED", ALICE, {"verification": "email"}, minutes=2),
        _line(
            "ACCOUNT_STATUS_CHANGED",
            MALLORY,
            {"account_status": "suspended", "reason_code": "report_threshold"},
            minutes=3,
        ),
    ]
    (landing / "a.ndjson").write_bytes(b"\n".join(lines) + b"\n")
    assert main(["ingest", "--quiet"]) == 0


def _queue(settings: Settings) -> None:
    frame = pl.DataFrame(
        {
            "position": [1, 2],
            "user_id": [MALLORY, str(uuid.uuid4())],  # the second: never on the platform
            "trust": [0.1, 0.5],
            "fraud_risk": [0.93, 0.4],
            "band": ["high", "medium"],
            "confirmed_fraud": [False, False],
            "reasons": [["7 accounts share this device"], []],
            "rule_hits": [["device shared by 5+ accounts"], []],
            "model_version": ["m1", "m1"],
            "scored_at": pl.Series([T, T], dtype=pl.Datetime("us", "UTC")),
        }
    )
    FeatureStore(settings.features).write("review_queue", date(2026, 8, 9), frame=frame)


def test_seed_core_makes_the_platforms_users_real_accounts(
    settings: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    _lake(settings)
    capsys.readouterr()
    assert main(["seed-core"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert json.loads(out[0]) == {"platform_users": 2, "users_added": 2, "devices_added": 1}
    assert out[1].startswith("analyst: analyst@vouch.example  password: ")
    assert out[2].startswith("senior_analyst: senior@vouch.example  password: ")
    assert main(["seed-core", "--no-staff"]) == 0
    assert json.loads(capsys.readouterr().out)["users_added"] == 0  # repeatable
    assert main(["seed-core", "--staff-only"]) == 0
    again = capsys.readouterr().out.splitlines()
    assert json.loads(again[0])["platform_users"] == 0 and again[1] != out[1]  # a new password
    engine = make_engine(settings)
    with make_sessionmaker(engine)() as db:
        alice, mallory = db.get(User, ALICE), db.get(User, MALLORY)
        devices = db.scalars(select(Device.fingerprint).where(Device.user_id == MALLORY)).all()
        assert alice is not None and alice.email_verified_at is not None  # read from verifications
    engine.dispose()
    assert alice.email == f"sim-{ALICE}@mail.example" and alice.status == "active"
    assert mallory is not None and mallory.status == "suspended" and devices == ["fp_m1"]


def test_queue_shows_the_latest_scores_and_syncs_cases(
    settings: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["queue"]) == 2  # nothing scored yet
    _lake(settings)
    _queue(settings)
    assert main(["seed-core", "--no-staff"]) == 0
    capsys.readouterr()
    assert main(["queue", "--top", "1"]) == 0
    shown = capsys.readouterr().out
    assert "2 flagged, top 1" in shown and MALLORY in shown and "risk 0.930" in shown
    assert main(["queue", "--sync", "--json"]) == 0
    captured = capsys.readouterr()
    assert json.loads(captured.out.splitlines()[0])["user_id"] == MALLORY
    assert json.loads(captured.err.splitlines()[-1])["sync"] == {
        "opened": 1,
        "refreshed": 0,
        "unknown_users": 1,
        "held_back": 0,
    }
    engine = make_engine(settings)
    with make_sessionmaker(engine)() as db:
        (case,) = db.scalars(select(ReviewCase)).all()
    engine.dispose()
    assert (case.user_id, case.band) == (MALLORY, "high")
    assert case.reasons.split("\n") == [
        "7 accounts share this device",
        "device shared by 5+ accounts",
    ]

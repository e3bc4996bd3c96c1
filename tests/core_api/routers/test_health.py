from __future__ import annotations

from pathlib import Path

from fastapi.testclient import TestClient

from core_api.app import create_app
from settings import Settings


def test_health_answers_without_a_token(api: TestClient) -> None:
    assert api.get("/health").json() == {"status": "ok"}


def test_ready_checks_database_store_and_sink(api: TestClient) -> None:
    answer = api.get("/ready")
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["status"] == "ready"
    assert {name: c["ok"] for name, c in body["checks"].items()} == {
        "database": True,
        "online_store": True,
        "event_sink": True,
    }


def test_ready_is_503_naming_an_unreachable_online_store(tmp_path: Path) -> None:
    # Port 1 on loopback: nothing listens, the connection is refused at once.
    settings = Settings(data_dir=tmp_path, redis_url="redis://127.0.0.1:1/0")
    with TestClient(create_app(settings, relay_every_s=None)) as client:
        answer = client.get("/ready")
        assert client.get("/health").status_code == 200  # alive all the same
    assert answer.status_code == 503
    checks = answer.json()["checks"]
    assert not checks["online_store"]["ok"] and checks["online_store"]["error"]
    assert checks["database"]["ok"] and checks["event_sink"]["ok"]

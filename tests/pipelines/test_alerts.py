"""A failed run alerts: a structured log record, and a JSON POST to a real local HTTP server."""

from __future__ import annotations

import json
import logging
import threading
import warnings
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import ClassVar

import pytest
from dagster import DagsterInstance, build_run_status_sensor_context, job, op

from pipelines.alerts import alert
from pipelines.resources import Storage
from pipelines.sensors import run_failure_alert
from settings import Settings

warnings.filterwarnings("ignore", module="dagster")


class _Receiver(BaseHTTPRequestHandler):
    received: ClassVar[list[dict]] = []  # each test's subclass gets its own list

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        type(self).received.append(json.loads(body))
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args: object) -> None:  # keep the test's output clean
        return


@pytest.fixture
def webhook() -> Iterator[tuple[str, list[dict]]]:
    received: ClassVar[list[dict]] = []  # each test's subclass gets its own list
    handler = type("Receiver", (_Receiver,), {"received": received})
    server = HTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}/hooks/vouch", received
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


@op
def explode() -> None:
    raise RuntimeError("the lake is on fire")


@job
def doomed() -> None:
    explode()


def test_a_failed_run_is_logged_and_posted_to_the_webhook(
    tmp_path: Path, webhook: tuple[str, list[dict]], caplog: pytest.LogCaptureFixture
) -> None:
    url, received = webhook
    storage = Storage(Settings(data_dir=tmp_path / "data", alert_webhook_url=url))
    with DagsterInstance.ephemeral() as instance:
        result = doomed.execute_in_process(instance=instance, raise_on_error=False)
        assert not result.success
        context = build_run_status_sensor_context(
            sensor_name="run_failure_alert",
            dagster_event=result.get_run_failure_event(),
            dagster_instance=instance,
            dagster_run=result.dagster_run,
            resources={"storage": storage},
        ).for_run_failure()
        with caplog.at_level(logging.ERROR, logger="vouch.alerts"):
            run_failure_alert(context)
    (posted,) = received
    assert posted["alert"] == "dagster_run_failed"
    assert posted["job"] == "doomed" and posted["run_id"] == result.run_id
    assert "explode" in posted["error"]
    (record,) = [r for r in caplog.records if r.name == "vouch.alerts"]
    assert record.alert == posted  # type: ignore[attr-defined]


def test_alert_without_or_with_a_dead_webhook_logs_and_does_not_raise(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with caplog.at_level(logging.WARNING, logger="vouch.alerts"):
        assert alert({"alert": "x"}, webhook_url=None) is None
        # Port 9 (discard) refuses: the alert is still logged, the sensor's tick still succeeds.
        assert alert({"alert": "y"}, webhook_url="http://127.0.0.1:9/", timeout_s=2) is None
        assert alert({"alert": "z"}, webhook_url="file:///etc/passwd") is None
    messages = [r.getMessage() for r in caplog.records if r.name == "vouch.alerts"]
    assert sum("vouch alert" in m for m in messages) == 3
    assert any("unreachable" in m for m in messages)
    assert any("not an http(s) URL" in m for m in messages)


def test_the_webhook_setting_must_be_http() -> None:
    with pytest.raises(ValueError, match="alert_webhook_url"):
        Settings(alert_webhook_url="file:///tmp/x")

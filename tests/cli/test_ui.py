"""`vouch ui` (`make ui`): both UIs answer, and one SIGTERM leaves nothing running."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from cli.ui import free_port

pytestmark = pytest.mark.slow


def _descendants(root: int) -> set[int]:
    """Every live process below ``root``, from /proc (children of children too)."""
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                # ppid is the 2nd field after the ")" that closes the command name
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            parents[int(entry.name)] = int(fields[1])
    found, frontier = set(), {root}
    while frontier:
        frontier = {pid for pid, ppid in parents.items() if ppid in frontier} - found
        found |= frontier
    return found


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def _get(url: str) -> int:
    with urllib.request.urlopen(url, timeout=5) as response:
        return int(response.status)


def test_ui_starts_both_and_one_sigterm_stops_everything(tmp_path: Path) -> None:
    dagster_port, mlflow_port = free_port("127.0.0.1", 0), free_port("127.0.0.1", 0)
    env = dict(os.environ, VOUCH_DATA_DIR=str(tmp_path / "data"))
    vouch = Path(sys.executable).parent / "vouch"
    log = tmp_path / "ui.stderr"  # a file, not a pipe nobody reads while the servers log
    ui = subprocess.Popen(
        [str(vouch), "ui", "--dagster-port", str(dagster_port), "--mlflow-port", str(mlflow_port)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=log.open("w"),
        text=True,
    )
    try:
        assert ui.stdout is not None
        deadline = time.monotonic() + 300  # two cold Python servers on a shared 2-core machine
        lines: list[str] = []
        while not any("MLflow" in line for line in lines) and time.monotonic() < deadline:
            line = ui.stdout.readline()
            if not line:
                break
            lines.append(line)
        printed = "".join(lines)
        assert f"http://127.0.0.1:{dagster_port}" in printed, printed
        assert f"http://127.0.0.1:{mlflow_port}/#/experiments?workflowType=" in printed, printed
        assert _get(f"http://127.0.0.1:{dagster_port}/server_info") == 200
        assert _get(f"http://127.0.0.1:{mlflow_port}/health") == 200
        started = _descendants(ui.pid)
        assert len(started) >= 4  # dagster dev, its webserver and daemon; the MLflow server
        ui.send_signal(signal.SIGTERM)
        ui.wait(timeout=90)
    finally:
        if ui.poll() is None:
            ui.kill()
    assert ui.returncode == 0
    assert "will not be used" not in log.read_text()
    time.sleep(0.5)
    assert not [pid for pid in started if _alive(pid)]

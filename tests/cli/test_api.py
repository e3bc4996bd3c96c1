from __future__ import annotations

import gc
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx2 as httpx
from fastapi.testclient import TestClient

from cli import build_parser
from cli.api import _frozen_after_startup, _serve
from core_api.app import create_app
from settings import Settings


def test_vouch_api_parses_its_options() -> None:
    args = build_parser().parse_args(["api", "--port", "9001", "--relay-every-s", "0"])
    assert (args.func, args.port, args.host, args.relay_every_s) == (_serve, 9001, "127.0.0.1", 0)


def test_vouch_api_takes_workers_and_defaults_to_one() -> None:
    parser = build_parser()
    assert parser.parse_args(["api"]).workers == 1
    args = parser.parse_args(["api", "--workers", "3", "--no-access-log"])
    assert (args.workers, args.no_access_log) == (3, True)


def test_vouch_api_serves_with_several_workers(tmp_path: Path) -> None:
    """Two worker processes on one port: the schema is migrated once before they start, and
    a write then a read go through whichever worker the kernel picks."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    vouch = Path(sys.executable).with_name("vouch")
    env = {
        **os.environ,
        "VOUCH_DATA_DIR": str(tmp_path),
        "VOUCH_DATABASE_URL": "",
        "VOUCH_REDIS_URL": "",
        "VOUCH_NATS_URL": "",
    }
    server = subprocess.Popen(
        [str(vouch), "api", "--port", str(port), "--workers", "2", "--relay-every-s", "0"],
        env=env,
        cwd=tmp_path,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )
    try:
        statuses = []
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not statuses:
            try:
                statuses.append(httpx.get(f"http://127.0.0.1:{port}/identity/me").status_code)
            except httpx.TransportError:
                time.sleep(0.2)
        assert statuses == [401], server.stderr.read1().decode() if server.stderr else ""
        body = {"email": "workers@example.com", "password": "x" * 12, "display_name": "w"}
        created = httpx.post(f"http://127.0.0.1:{port}/identity/register", json=body)
        assert created.status_code == 201
        workers = [p for p in Path("/proc").glob("[0-9]*/stat") if _parent(p) == server.pid]
        assert len([w for w in workers if "spawn_main" in _cmdline(w)]) == 2
    finally:
        os.killpg(server.pid, signal.SIGINT)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()


def _parent(stat: Path) -> int:
    try:
        return int(stat.read_text().rsplit(")", 1)[1].split()[1])
    except (OSError, IndexError):
        return -1


def _cmdline(stat: Path) -> str:
    try:
        return (stat.parent / "cmdline").read_bytes().decode(errors="replace")
    except OSError:
        return ""


def test_served_app_freezes_its_start_up_objects_out_of_the_collector(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, database_url=None, redis_url=None, nats_url=None)
    app = _frozen_after_startup(create_app(settings, relay_every_s=None))
    gc.unfreeze()
    try:
        with TestClient(app) as client:
            frozen = gc.get_freeze_count()
            assert client.get("/identity/me").status_code == 401  # the app still serves
        assert frozen > 50_000  # modules, routes, schemas, the engine...
    finally:
        gc.unfreeze()  # back to the oldest generation: later tests collect as usual

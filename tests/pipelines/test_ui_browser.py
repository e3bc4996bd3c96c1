"""The Dagster UI in a real browser (Debian's chromium through Playwright, nothing downloaded):
``dagster-webserver`` on a spare port serves the definitions from a tiny temporary instance; the
asset graph shows the pipeline's assets and the automation page opens. Screenshots are left in
``<data>/artifacts/dagster/`` (asset_graph.png, automation.png)."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import suppress
from pathlib import Path

import pytest

from cli.ui import free_port
from pipelines.instance import dagster_home
from settings import Settings, get_settings
from tests.core_api.console.test_browser import _chromium

pytestmark = pytest.mark.browser
START_S = 240  # a cold code server on a shared 2-core machine


@pytest.fixture
def webserver(tmp_path: Path) -> Iterator[str]:
    settings = Settings(data_dir=tmp_path / "data")
    home = dagster_home(settings)
    port = free_port("127.0.0.1", 0)
    env = dict(os.environ, DAGSTER_HOME=str(home), VOUCH_DATA_DIR=str(settings.data_dir))
    binary = str(Path(sys.executable).parent / "dagster-webserver")
    server = subprocess.Popen(
        [binary, "-m", "pipelines.definitions", "-h", "127.0.0.1", "-p", str(port)],
        cwd=home,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=(tmp_path / "webserver.log").open("w"),
        start_new_session=True,  # its code server too is stopped with the group
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + START_S
        while True:
            assert server.poll() is None, (tmp_path / "webserver.log").read_text()[-2000:]
            with suppress(OSError), urllib.request.urlopen(f"{url}/server_info", timeout=2):
                break
            assert time.monotonic() < deadline, "dagster-webserver did not start"
            time.sleep(1)
        yield url
    finally:
        with suppress(ProcessLookupError):
            os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()


def test_asset_graph_and_automation_pages_render(webserver: str) -> None:
    executable = _chromium()
    from playwright.sync_api import expect, sync_playwright

    artifacts = get_settings().artifacts / "dagster"
    artifacts.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=executable, args=["--no-sandbox"])
        page = browser.new_page(viewport={"width": 1600, "height": 1000})
        page.set_default_timeout(START_S * 1000)
        expect.set_options(timeout=START_S * 1000)

        page.goto(f"{webserver}/asset-groups")
        # A first visit offers a newsletter dialog over the page.
        skip = page.get_by_role("button", name="Skip")
        skip.click()
        expect(skip).to_have_count(0)
        # The graph opens with one collapsed node per group: every group of the pipeline is there.
        for group in ("ingest", "features", "models", "serving"):
            expect(page.get_by_text(group, exact=True).first).to_be_visible()
        expect(page.get_by_text("Global asset lineage")).to_be_visible()
        page.wait_for_load_state("networkidle")
        page.screenshot(path=str(artifacts / "asset_graph.png"))

        page.goto(f"{webserver}/automation")
        # Loaded: it lists the sensors of pipelines.definitions (the landing sensor among them).
        listed = re.compile(r"landing_sensor")
        expect(page.locator("main, #root").first).to_contain_text(listed)
        page.wait_for_load_state("networkidle")
        page.screenshot(path=str(artifacts / "automation.png"), full_page=True)
        browser.close()

    for name in ("asset_graph.png", "automation.png"):
        assert (artifacts / name).stat().st_size > 10_000, name

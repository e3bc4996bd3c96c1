"""The console in a real browser (Debian's chromium through Playwright, nothing downloaded):
an analyst signs in, opens the riskiest case from the queue, sees the linked-accounts graph,
confirms fraud with a second factor, and the user's next transfer is denied at once; the
decision event reaches the landing and, after an ingest, the lake. Screenshots of the queue
and the case page are left in ``<data>/artifacts/console/``."""

from __future__ import annotations

import shutil
import socket
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb
import httpx2 as httpx
import pytest
import uvicorn
from sqlalchemy.orm import Session, sessionmaker

from core_api.app import create_app
from core_api.db.engine import make_engine, make_sessionmaker
from core_api.db.identity import User
from core_api.services import review
from pipelines.ingest import Lake, ingest_days, landing_partitions
from settings import Settings, get_settings
from tests.conftest import IN_CI
from tests.core_api.console.helpers import account_in, code_in
from tests.core_api.routers.helpers import PASSWORD

pytestmark = pytest.mark.browser
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"


def _chromium() -> str:
    if Path(CHROMIUM).exists():
        return CHROMIUM
    if IN_CI:
        pytest.fail("chromium is required under CI=true (make chromium installs it)")
    pytest.skip("chromium not installed (make chromium)")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass(frozen=True)
class Served:
    url: str
    settings: Settings
    sessions: sessionmaker[Session]


@pytest.fixture
def served(tmp_path: Path) -> Iterator[Served]:
    settings = Settings(data_dir=tmp_path, database_url=None, redis_url=None, nats_url=None)
    app = create_app(settings, relay_every_s=0.3)
    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.05)
    engine = make_engine(settings)
    try:
        yield Served(f"http://127.0.0.1:{port}", settings, make_sessionmaker(engine))
    finally:
        server.should_exit = True
        thread.join(timeout=15)
        engine.dispose()


def _api_user(http: httpx.Client, served: Served, *, device: str) -> tuple[dict[str, Any], dict]:
    """A two-day-old verified account whose session holds a fresh second factor: the access
    rules let it move money (as ``tests/core_api/routers/money_helpers.trusted``)."""
    made = account_in(served.sessions, http, role=None)
    with served.sessions() as db:
        user = db.get(User, made["id"])
        assert user is not None
        user.created_at -= timedelta(days=2)
        db.commit()
    device_header = {"X-Device-Fingerprint": device}
    tokens = http.post(
        "/identity/login",
        json={"email": made["email"], "password": PASSWORD},
        headers=device_header,
    ).json()
    auth = {"Authorization": f"Bearer {tokens['access_token']}", **device_header}
    assert http.post("/identity/mfa/challenge", headers=auth).status_code == 202
    code = code_in(served.sessions, made["email"])
    raised = http.post("/identity/mfa/verify", json={"code": code}, headers=auth).json()
    return made, {**auth, "Authorization": f"Bearer {raised['access_token']}"}


def _money(http: httpx.Client, headers: dict, path: str, body: dict) -> httpx.Response:
    key = {"Idempotency-Key": f"k-{uuid.uuid4().hex}"}
    return http.post(path, json=body, headers={**headers, **key})


def _landed(settings: Settings, needle: str, *, within_s: float = 15) -> bool:
    deadline = time.monotonic() + within_s
    while time.monotonic() < deadline:
        for path in settings.landing.rglob("*.ndjson"):
            if needle in path.read_text():
                return True
        time.sleep(0.2)
    return False


def test_an_analyst_bans_a_fraudster_from_the_browser(served: Served) -> None:
    from playwright.sync_api import expect, sync_playwright

    executable = _chromium()
    artifacts = get_settings().artifacts / "console"
    artifacts.mkdir(parents=True, exist_ok=True)
    http = httpx.Client(base_url=served.url, timeout=10)
    analyst = account_in(served.sessions, http, role="analyst")
    suspect, suspect_auth = _api_user(http, served, device="dev-ring-1")
    twin, _ = _api_user(http, served, device="dev-ring-1")
    deposit = {"amount": "100.00", "currency": "EUR", "payment_method_id": "pm_card_visa"}
    assert _money(http, suspect_auth, "/payments/deposits", deposit).status_code == 201
    send = {"to_user_id": twin["id"], "amount": "5.00", "currency": "EUR"}
    assert _money(http, suspect_auth, "/payments/transfers", send).status_code == 201
    # A small neighbourhood: a second device-sharer, a money mule, a friend who vouches.
    sharer, _ = _api_user(http, served, device="dev-ring-1")
    mule, _ = _api_user(http, served, device="dev-mule")
    _, friend_auth = _api_user(http, served, device="dev-friend")
    cash_out = {"to_user_id": mule["id"], "amount": "60.00", "currency": "EUR"}
    assert _money(http, suspect_auth, "/payments/transfers", cash_out).status_code == 201
    vouch = {"user_id": suspect["id"], "edge_type": "friend", "weight": 0.8}
    assert http.put("/identity/trust/connect", json=vouch, headers=friend_auth).status_code in (
        200,
        201,
    )
    with served.sessions() as db:
        now = datetime.now(UTC)
        said = ("3 accounts share this device", "sent 65.00 EUR within minutes of signing up")
        review.sync_cases(
            db,
            flags=[
                review.Flag(suspect["id"], 0.94, "high", said, now),
                review.Flag(twin["id"], 0.41, "medium", ("new account receiving money",), now),
                review.Flag(mule["id"], 0.63, "high", ("money in, paid out the same day",), now),
                review.Flag(sharer["id"], 0.12, "medium", ("3 accounts share this device",), now),
            ],
        )

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=executable, args=["--no-sandbox"])
        page = browser.new_page(viewport={"width": 1440, "height": 1000})
        page.goto(f"{served.url}/review/queue")
        expect(page).to_have_url(f"{served.url}/review/login?next=/review/queue")
        page.fill("input[name=email]", analyst["email"])
        page.fill("input[name=password]", PASSWORD)
        page.click("button[type=submit]")
        expect(page.locator("table.queue")).to_be_visible()
        rows = page.locator("table.queue tbody tr")
        expect(rows).to_have_count(4)
        expect(rows.first).to_contain_text(suspect["email"])
        rows.first.get_by_role("button", name="Claim").click()
        expect(rows.first).to_contain_text("you")
        page.screenshot(path=str(artifacts / "queue.png"), full_page=True)

        rows.first.get_by_role("link", name="Open").click()
        graph = page.locator("#linked-graph")
        expect(graph).to_be_visible()
        expect(graph.locator(f'a.node[data-user="{twin["id"]}"]')).to_have_count(1)
        expect(graph.locator("line.edge.shared_device")).not_to_have_count(0)
        page.screenshot(path=str(artifacts / "case.png"), full_page=True)

        page.check("input[name=action][value=confirm]")
        page.select_option("select[name=reason]", "money_mule")
        page.fill("textarea[name=note]", "Shares a device with a mule; sends on arrival.")
        page.get_by_role("button", name="Send me a code").click()
        expect(page.locator("#mfa-status")).to_contain_text("Code sent")
        page.fill("input[name=code]", code_in(served.sessions, analyst["email"]))
        page.get_by_role("button", name="Record decision").click()
        expect(page.locator("p.done")).to_contain_text("confirm")
        expect(page.locator("#account-status")).to_have_text("banned")
        page.get_by_role("link", name="Metrics").click()
        expect(page.locator("#m-precision")).to_have_text("100%")
        page.screenshot(path=str(artifacts / "metrics.png"), full_page=True)
        browser.close()

    # The very next transfer through the API is denied: the ban and the deny override.
    refused = _money(http, suspect_auth, "/payments/transfers", send)
    assert refused.status_code == 403, refused.text
    # The decision went out through the outbox to the landing, and an ingest puts it in the lake.
    assert _landed(served.settings, '"REVIEW_DECISION"'), "no decision event in the landing"
    lake = Lake(served.settings.lake)
    days = sorted(landing_partitions(served.settings.landing))
    ingest_days(served.settings.landing, days, lake=lake)
    with duckdb.connect() as con:
        found = con.execute(
            "SELECT count(*) FROM read_parquet(?, hive_partitioning = true) "
            "WHERE event_type = 'REVIEW_DECISION' AND subject_id = ?",
            [str(lake.events_dir / "*" / "*.parquet"), suspect["id"]],
        ).fetchone()
    assert found is not None and found[0] == 1
    assert (artifacts / "queue.png").stat().st_size > 10_000

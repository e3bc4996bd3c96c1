"""`vouch billing`: the billing run from the command line, its events relayed to the landing."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from cli import build_parser, main
from core_api.app import create_app
from settings import Settings, get_settings
from tests.core_api.routers.money_helpers import trusted
from tests.core_api.routers.subscription_helpers import due, plan, subscribe, subscriber


@pytest.fixture
def settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Settings]:
    monkeypatch.setenv("VOUCH_DATA_DIR", str(tmp_path))
    for name in ("VOUCH_DATABASE_URL", "VOUCH_NATS_URL", "VOUCH_REDIS_URL"):
        monkeypatch.delenv(name, raising=False)
    get_settings.cache_clear()
    yield get_settings()
    get_settings.cache_clear()


def test_billing_has_help(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        build_parser().parse_args(["billing", "--help"])
    assert exit_info.value.code == 0
    assert "retried 1, 3 and 7" in capsys.readouterr().out
    for bad in (["--at", "yesterday"], ["--limit", "0"], ["--limit", "x"]):
        with pytest.raises(SystemExit):
            build_parser().parse_args(["billing", *bad])


def test_billing_renews_once_and_relays_its_events(
    settings: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    with TestClient(create_app(settings, relay_every_s=None), client=("203.0.113.7", 1)) as api:
        _, s_headers = trusted(api)
        offer = plan(api, s_headers, price="1.50", interval="week")
        _, b_headers = subscriber(api, "5")
        at = due(api, subscribe(api, b_headers, offer["id"])["id"]).isoformat()
    assert main(["billing", "--at", at]) == 0
    out = capsys.readouterr().out
    assert "renewed 1, failed 0" in out and "charged: 1.5000 EUR" in out
    landed = b"".join(p.read_bytes() for p in settings.landing.rglob("*") if p.is_file())
    assert landed.count(b'"SUBSCRIPTION_RENEWED"') == 1
    assert main(["billing", "--at", at]) == 0
    assert "renewed 0," in capsys.readouterr().out

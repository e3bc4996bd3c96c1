"""`vouch codes`: the dev message table read from the command line."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from cli import main
from core_api.db.engine import make_engine, make_sessionmaker, upgrade
from core_api.db.identity import DevMessage
from settings import Settings, get_settings


@pytest.fixture
def settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Settings]:
    monkeypatch.setenv("VOUCH_DATA_DIR", str(tmp_path / "data"))
    get_settings.cache_clear()
    yield get_settings()
    get_settings.cache_clear()


def test_codes_prints_the_newest_messages_to_an_address(
    settings: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    engine = make_engine(settings)
    upgrade(engine)
    with make_sessionmaker(engine)() as db:
        for code in ("111111", "222222"):
            body = f"Your Vouch code: {code}"
            db.add(DevMessage(channel="email", recipient="analyst@vouch.example", body=body))
        db.commit()
    engine.dispose()
    assert main(["codes", "Analyst@Vouch.example", "--last", "1"]) == 0
    out = capsys.readouterr().out
    assert "222222" in out and "111111" not in out
    assert main(["codes", "nobody@vouch.example"]) == 1

"""The settings module: the data directory's one layout, and no silent typos."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from pydantic import ValidationError

from settings import Settings

ROOT = Path(__file__).resolve().parents[2]
SOURCES = ("core_api", "features", "models", "pipelines", "serving", "simulator", "cli", "bench")
LAYOUT = [name for name, value in vars(Settings).items() if isinstance(value, property)]


def test_every_path_lies_under_the_data_dir(tmp_path: Path) -> None:
    s = Settings(data_dir=tmp_path)
    paths = {name: getattr(s, name) for name in LAYOUT}
    assert all(p.is_relative_to(tmp_path.resolve()) for p in paths.values()), paths
    assert len(set(paths.values())) == len(paths)  # no two names for one place


def test_each_file_name_is_spelled_in_one_module() -> None:
    source = (ROOT / "settings" / "__init__.py").read_text()
    names = re.findall(r'self\._under\("([^"]+)"\)', source)
    assert {"core.sqlite", "core_api.key", "online_feed.sqlite3", "mlflow.db"} <= set(names)
    for name in names:
        # A file name anywhere in quotes; a bare folder name ("lake") only as a path join.
        joined = rf"/\s*[\"']{re.escape(name)}[\"']"
        quoted = re.compile(rf"[\"']{re.escape(name)}[\"']" if "." in name else joined)
        homes = [
            str(p.relative_to(ROOT))
            for top in SOURCES
            for p in (ROOT / top).rglob("*.py")
            if quoted.search(p.read_text())
        ]
        assert homes == [], f"{name} is also spelled in {homes}"


def test_an_unknown_vouch_variable_is_an_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VOUCH_REDIS_ULR", "redis://typo")
    with pytest.raises(ValidationError, match="VOUCH_REDIS_ULR"):
        Settings()


def test_known_variables_are_read(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("VOUCH_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("VOUCH_REDIS_URL", "redis://127.0.0.1:6379/3")
    s = Settings()
    assert (s.data_dir, s.redis_url) == (tmp_path, "redis://127.0.0.1:6379/3")
    assert s.online_feed == tmp_path.resolve() / "online_feed.sqlite3"

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from dagster import DagsterInstance

from cli import build_parser, main
from cli.run import COMMAND_TAG
from settings import get_settings
from tests.conftest import wire


@pytest.mark.parametrize(
    "command",
    [
        [],
        ["simulate"],
        ["ingest"],
        ["report"],
        ["features"],
        ["trust", "score"],
        ["trust", "evaluate"],
        ["models"],
        ["queue"],
        ["seed-core"],
        ["publish"],
        ["check"],
        ["versions"],
        ["feed"],
        ["fraud", "evaluate"],
        ["api"],
        ["drain-nats"],
    ],
)
def test_every_command_has_help(command: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        build_parser().parse_args([*command, "--help"])
    assert exit_info.value.code == 0
    assert "usage: vouch" in capsys.readouterr().out


def test_console_script_is_installed() -> None:
    vouch = Path(sys.executable).parent / "vouch"
    done = subprocess.run([str(vouch), "--help"], capture_output=True, text=True, check=True)
    assert "ingest" in done.stdout


def test_ingest_prints_one_balanced_json_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("VOUCH_DATA_DIR", str(tmp_path / "data"))
    get_settings.cache_clear()
    landing = tmp_path / "landing" / "2026-08-09"
    landing.mkdir(parents=True)
    (landing / "a.ndjson").write_bytes(b"\n".join([wire(), wire(), b"{oops"]) + b"\n")
    try:
        assert main(["ingest", "--landing", str(landing.parent), "--quiet"]) == 0
        first = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
        assert main(["ingest", "--landing", str(landing.parent), "--quiet"]) == 0
        second = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
        assert main(["report"]) == 0
        assert "Quarantined lines: 1" in capsys.readouterr().out
    finally:
        get_settings.cache_clear()
    assert first == {"read": 3, "ingested": 2, "duplicates": 0, "quarantined": 1}
    assert second == {"read": 3, "ingested": 0, "duplicates": 3, "quarantined": 0}
    # The UI lists both runs under the named job, with the command that started them.
    with DagsterInstance.from_config(str(tmp_path / "data" / "dagster")) as instance:
        runs = [(r.job_name, r.tags.get(COMMAND_TAG)) for r in instance.get_runs()]
    assert runs == [("ingest", "vouch ingest")] * 2

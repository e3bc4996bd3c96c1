"""Notebooks run: their code cells execute in order against a small lake."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pipelines.ingest import Lake, ingest_landing
from pipelines.ingest.views import refresh_views
from tests.conftest import NOW, wire

NOTEBOOKS = sorted((Path(__file__).resolve().parent.parent / "notebooks").glob("*.ipynb"))


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=[n.name for n in NOTEBOOKS])
def test_notebook_cells_run(
    notebook: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    landing = tmp_path / "landing" / "2026-08-09"
    landing.mkdir(parents=True)
    lines = [wire(), wire(), wire("POST_ENGAGED"), b"[not an event]"]
    (landing / "a.ndjson").write_bytes(b"\n".join(lines) + b"\n")
    lake = Lake(tmp_path / "data" / "lake")
    ingest_landing(
        [landing / "a.ndjson"],
        landing=landing.parent,
        lake=lake,
        landing_date=NOW.date(),
        now=NOW,
    )
    refresh_views(lake, tmp_path / "data" / "warehouse.duckdb")
    monkeypatch.setenv("VOUCH_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("MPLBACKEND", "Agg")
    namespace: dict = {}
    for cell in json.loads(notebook.read_text())["cells"]:
        if cell["cell_type"] == "code":
            exec(compile("".join(cell["source"]), f"{notebook.name}", "exec"), namespace)

"""The one-way imports of docs/architecture.md ("Import arrows": the rooms of the team brief,
../shared/ARCHITECTURE.md, plus settings, simulator and cli), checked on the source (AST), not
on what happens to load. Change a rule here and there together."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OURS = {"pipelines", "features", "models", "serving", "core_api", "simulator", "cli", "settings"}
FRAMEWORKS = {"dagster", "fastapi", "starlette"}
# package -> packages of ours it may import (besides itself)
ALLOWED = {
    "settings": set(),
    # the plain libraries take paths and values as arguments; serving opens the stores it owns
    "features": set(),
    "models": {"features"},
    "serving": {"settings"},
    "core_api": {"serving", "settings"},
    "pipelines": {"features", "models", "serving", "core_api.events", "settings"},
    # the simulator writes the event contract's wire form; its --via-api driver is an HTTP client
    "simulator": {"core_api.events"},
}
CLI = ROOT / "cli"  # the entry point wires everything; nothing imports it


def _imports(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


def _violations() -> list[str]:
    found = []
    for package, allowed in ALLOWED.items():
        for path in sorted((ROOT / package).rglob("*.py")):
            if CLI in path.parents:
                continue
            where = path.relative_to(ROOT)
            for name in sorted(_imports(path)):
                top = name.split(".")[0]
                if top in FRAMEWORKS and package in {"features", "models", "serving"}:
                    found.append(f"{where}: plain library imports {top}")
                if top not in OURS or top == package:
                    continue
                if top == "pipelines":
                    found.append(f"{where}: nothing may import pipelines ({name})")
                elif not any(name == a or name.startswith(a + ".") for a in allowed):
                    found.append(f"{where}: {package} may not import {name}")
    for path in sorted(ROOT.rglob("*.py")):
        if {".venv", "tests"} & set(path.relative_to(ROOT).parts) or CLI in path.parents:
            continue  # tests may drive the CLI
        if any(n == "cli" or n.startswith("cli.") for n in _imports(path)):
            found.append(f"{path.relative_to(ROOT)}: imports the CLI entry point")
    return found


def test_imports_flow_one_way() -> None:
    assert _violations() == []


def test_rule_checker_catches_a_wrong_import(tmp_path: Path, monkeypatch) -> None:
    bad = ROOT / "features" / "_probe_wrong_import.py"
    bad.write_text("import dagster\nfrom pipelines.ingest import Lake\n")
    try:
        found = _violations()
    finally:
        bad.unlink()
    assert any("plain library imports dagster" in v for v in found)
    assert any("nothing may import pipelines" in v for v in found)

"""The simulator is a plain library: no orchestration or web imports, the contract via events."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import simulator as sim

ALLOWED_THIRD_PARTY = {"numpy", "polars", "pyarrow", "tqdm"}
# The --via-api driver is an HTTP client of the core API, and reads dev verification codes
# from its database: it may use an HTTP client and SQLAlchemy, nothing else may.
VIA_API_THIRD_PARTY = {"httpx2", "sqlalchemy"}


def test_imports_stay_inside_the_boundary() -> None:
    root = Path(sim.__file__).parent
    for path in root.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names = [node.module]
            else:
                continue
            for name in names:
                top = name.split(".")[0]
                if top == "core_api":
                    assert name == "core_api.events", (path.name, name)
                elif top == "simulator" or (
                    path.name.startswith("via_api") and top in VIA_API_THIRD_PARTY
                ):
                    continue
                elif top not in ALLOWED_THIRD_PARTY:
                    assert top in sys.stdlib_module_names, (path.name, name)

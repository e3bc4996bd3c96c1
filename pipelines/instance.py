"""The Dagster instance shared by `make ui` and the CLI (SQLite storage under the data dir)."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from dagster import DagsterInstance

_CONFIG = Path(__file__).resolve().parent.parent / "dagster.yaml"


def dagster_home(home: Path) -> Path:
    """Create DAGSTER_HOME with the repository's dagster.yaml in it."""
    home.mkdir(parents=True, exist_ok=True)
    if _CONFIG.exists():
        shutil.copyfile(_CONFIG, home / "dagster.yaml")
    return home


def local_instance(home: Path) -> DagsterInstance:
    os.environ["DAGSTER_HOME"] = str(dagster_home(home))
    return DagsterInstance.get()

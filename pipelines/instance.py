"""The Dagster instance of `make ui`, the CLI and the benches: DAGSTER_HOME under the data dir.

DAGSTER_HOME's ``dagster.yaml`` is written from the repository's ``dagster.yaml`` every time (so
the UI and the CLI never disagree), plus a PostgreSQL ``storage`` block when
``VOUCH_DAGSTER_POSTGRES_URL`` is set. The block names the variable rather than copying the URL, so
no password lands in a file; the variable is exported for the processes Dagster starts.
"""

from __future__ import annotations

import os
from pathlib import Path

from dagster import DagsterInstance

from settings import PREFIX, Settings

_CONFIG = Path(__file__).resolve().parent.parent / "dagster.yaml"
POSTGRES_ENV = f"{PREFIX}DAGSTER_POSTGRES_URL"
# Run, event-log and schedule storage in one database (dagster-postgres' `storage: postgres`).
_POSTGRES_STORAGE = f"""
# Added by pipelines/instance.py because {POSTGRES_ENV} is set:
storage:
  postgres:
    postgres_url:
      env: {POSTGRES_ENV}
"""


def instance_yaml(settings: Settings) -> str:
    """The instance configuration for these settings (the repository file + storage)."""
    text = _CONFIG.read_text() if _CONFIG.exists() else ""
    return text + _POSTGRES_STORAGE if settings.dagster_postgres_url else text


def dagster_home(settings: Settings) -> Path:
    """Create DAGSTER_HOME with this deployment's dagster.yaml in it."""
    home = settings.dagster_home
    home.mkdir(parents=True, exist_ok=True)
    target = home / "dagster.yaml"
    text = instance_yaml(settings)
    if not target.exists() or target.read_text() != text:
        target.write_text(text)
    if settings.dagster_postgres_url:
        # Exported even when it came from a .env file: the yaml reads the environment.
        os.environ[POSTGRES_ENV] = psycopg2_url(settings.dagster_postgres_url)
    return home


def psycopg2_url(url: str) -> str:
    """dagster-postgres speaks psycopg2; SQLAlchemy 2.1 reads a bare ``postgresql://`` as psycopg 3,
    whose server-side parameters break dagster-postgres' ``NOTIFY run_events, %s``."""
    for bare in ("postgresql://", "postgres://"):
        if url.startswith(bare):
            return "postgresql+psycopg2://" + url.removeprefix(bare)
    return url


def local_instance(settings: Settings) -> DagsterInstance:
    os.environ["DAGSTER_HOME"] = str(dagster_home(settings))
    return DagsterInstance.get()

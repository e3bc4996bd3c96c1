"""Shared simulator runs for the tests: one normal run, its hard-mode twin, one with faults."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import polars as pl
import pytest

from simulator import SimConfig, SimSummary, simulate


@dataclass(frozen=True)
class Run:
    config: SimConfig
    summary: SimSummary
    out: Path
    truth: Path

    @property
    def start(self) -> datetime:
        return datetime(
            self.config.start.year, self.config.start.month, self.config.start.day, tzinfo=UTC
        )

    @property
    def end(self) -> datetime:
        return self.start + timedelta(days=self.config.days)

    def files(self) -> list[Path]:
        return sorted(self.out.rglob("*.ndjson"))


def run(tmp: Path, config: SimConfig) -> Run:
    summary = simulate(config, out=tmp / "landing", truth_out=tmp / "truth", progress=False)
    return Run(config=config, summary=summary, out=tmp / "landing", truth=tmp / "truth")


@pytest.fixture(scope="session")
def honest(tmp_path_factory: pytest.TempPathFactory) -> Run:
    return run(tmp_path_factory.mktemp("sim_honest"), SimConfig(users=2000, days=14, seed=11))


@pytest.fixture(scope="session")
def hardened(tmp_path_factory: pytest.TempPathFactory) -> Run:
    """The honest run's world with the fraud hiding (same users, recruits and scheme starts)."""
    config = SimConfig(users=2000, days=14, seed=11, hard=True)
    return run(tmp_path_factory.mktemp("sim_hard"), config)


@pytest.fixture(scope="session")
def faulty(tmp_path_factory: pytest.TempPathFactory) -> Run:
    config = SimConfig(users=300, days=2, seed=5, faults=0.01)
    return run(tmp_path_factory.mktemp("sim_faulty"), config)


@pytest.fixture(scope="session")
def events(honest: Run) -> pl.DataFrame:
    return read_events(honest)


@pytest.fixture(scope="session")
def hard_events(hardened: Run) -> pl.DataFrame:
    return read_events(hardened)


def read_events(done: Run) -> pl.DataFrame:
    """Every delivered event of a run, one row per event id, payload as JSON text."""
    rows = []
    for path in done.files():
        rel = str(path.relative_to(done.out))
        for line in path.read_text().splitlines():
            e = json.loads(line)
            ctx = e["context"]
            rows.append(
                (
                    e["event_id"],
                    e["event_type"],
                    e["occurred_at"],
                    e["actor_id"],
                    e["subject_id"],
                    ctx.get("device_id"),
                    ctx.get("ip"),
                    ctx.get("country"),
                    json.dumps(e["payload"]),
                    rel,
                )
            )
    cols = [
        "event_id",
        "et",
        "ts",
        "actor",
        "subject",
        "device",
        "ip",
        "country",
        "payload",
        "file",
    ]
    frame = pl.DataFrame(rows, schema=cols, orient="row")
    return frame.unique("event_id", keep="first", maintain_order=True)


@pytest.fixture(scope="session")
def users(honest: Run) -> pl.DataFrame:
    return pl.read_parquet(honest.truth / "users.parquet")


@pytest.fixture(scope="session")
def hard_users(hardened: Run) -> pl.DataFrame:
    return pl.read_parquet(hardened.truth / "users.parquet")


def field(name: str) -> pl.Expr:
    return pl.col("payload").str.json_path_match(f"$.{name}")

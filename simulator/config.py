"""The simulator's public configuration and its summary."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path


@dataclass(frozen=True)
class SimConfig:
    users: int = 3000
    days: int = 21
    seed: int = 7
    start: date = date(2026, 8, 1)  # first simulated day (UTC)
    faults: float = 0.0  # share of lines corrupted in transit
    hard: bool = False  # adversarial fraud that hides (aged accounts, own devices, cover life)


@dataclass(frozen=True)
class SimSummary:
    events: int  # distinct events delivered intact (bootstrap included)
    lines: int  # every line written: events, re-deliveries and broken lines
    bytes: int
    counts_by_type: dict[str, int]
    faults_by_kind: dict[str, int]
    files: list[Path]
    fraud_users_by_typology: dict[str, int]
    late: int = 0  # events delivered one to three days after they happened
    duplicates: int = 0  # extra byte-identical deliveries
    lost_to_faults: int = 0  # events whose only line was corrupted
    undelivered: int = 0  # events still in transit when the run ended
    users: int = 0
    days: int = 0

"""bench.ranking, what bench.feed and bench.search share: the windows' arguments and the lake
kept for --reuse (simulated once at a tiny size, then reused only for the same settings)."""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest

from bench.ranking import add_window_arguments, history_days, simulated_lake
from simulator import SimConfig


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="bench")
    add_window_arguments(parser, seed=7)
    return parser


def test_window_arguments_leave_a_day_of_history_or_refuse() -> None:
    parser = _parser()
    args = parser.parse_args(["--days", "15"])
    assert (args.seed, args.reuse, history_days(parser, args)) == (7, False, 1)
    with pytest.raises(SystemExit):
        history_days(parser, parser.parse_args(["--days", "14"]))


def test_simulated_lake_is_reused_only_for_the_same_settings(tmp_path: Path) -> None:
    config = SimConfig(users=200, days=2, seed=3)
    lake, seconds = simulated_lake(tmp_path, config, reuse=True, progress=False)
    assert seconds > 0 and any(lake.events_dir.rglob("*.parquet"))
    assert simulated_lake(tmp_path, config, reuse=True, progress=False)[1] == 0.0
    other = SimConfig(users=200, days=2, seed=4)
    assert simulated_lake(tmp_path, other, reuse=True, progress=False)[1] > 0
    assert simulated_lake(tmp_path, other, reuse=False, progress=False)[1] > 0

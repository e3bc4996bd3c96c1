"""bench.scale end to end at a tiny size: the JSON's shape and that every figure is positive.

Simulate, ingest and one asset (each step is a process that imports Dagster, about 5 s on a quiet
machine); the full list of steps needs at least eleven days (the feed ranker's windows)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bench.scale import main

STEPS = ["simulate", "ingest", "trust_graph"]


def test_bench_scale_reports_every_step_and_its_growth(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert (
        main(
            [
                "--users",
                "300,600",
                "--days",
                "4",
                "--steps",
                ",".join(STEPS),
                "--out",
                str(tmp_path),
            ]
        )
        == 0
    )
    out = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert out["bench"] == "scale"
    assert [s["users"] for s in out["sizes"]] == [300, 600]
    for size in out["sizes"]:
        assert size["events"] > 0
        assert list(size["steps"]) == STEPS
        for figures in size["steps"].values():
            assert figures["seconds"] > 0
            assert figures["peak_rss_mb"] > 0
            assert figures["rows"] > 0
    assert out["sizes"][1]["events"] > out["sizes"][0]["events"]
    assert set(out["exponents"]) == set(STEPS)
    assert all(set(fit) == {"time", "memory"} for fit in out["exponents"].values())
    assert out["peak_rss_mb"] > 0
    assert (tmp_path / "scale.png").stat().st_size > 0
    assert not (tmp_path / "u300").exists()  # the data dirs go unless --keep

"""`vouch fraud evaluate` end to end on a tiny synthetic card table, and its help."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np
import polars as pl
import pytest

from cli import build_parser, main
from models.handbook.benchmark import DEFAULT_GRID


def synthetic_table(path: Path, *, days: int = 46, per_day: int = 220, seed: int = 3) -> Path:
    """Handbook-shaped transactions from 2018-04-01: 80 cards with their own spending level; a
    fraud multiplies the amount by 5 (scenario 3 of the handbook), about 5 % of rows."""
    rng = np.random.default_rng(seed)
    n = days * per_day
    seconds = np.sort(rng.integers(0, days * 86_400, n))
    customer = rng.integers(0, 80, n)
    spend = rng.uniform(10, 80, 80)[customer]
    fraud = rng.random(n) < 0.05
    amount = np.abs(rng.normal(spend, spend / 3)) * np.where(fraud, 5.0, 1.0)
    pl.DataFrame(
        {
            "TRANSACTION_ID": np.arange(n),
            "TX_DATETIME": [datetime(2018, 4, 1) + timedelta(seconds=int(s)) for s in seconds],
            "CUSTOMER_ID": customer,
            "TERMINAL_ID": rng.integers(0, 50, n),
            "TX_AMOUNT": np.round(amount, 2),
            "TX_FRAUD": fraud.astype(np.int8),
        }
    ).write_parquet(path)
    return path


@pytest.mark.parametrize("command", [["fraud"], ["fraud", "evaluate"]])
def test_fraud_commands_have_help(command: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        build_parser().parse_args([*command, "--help"])
    assert exit_info.value.code == 0
    out = capsys.readouterr().out
    assert "usage: vouch fraud" in out
    if command[-1] == "evaluate":
        assert "--test-train-starts" in out and "--valid-train-starts" in out


def test_evaluate_round_trip(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    table = synthetic_table(tmp_path / "tx.parquet")
    argv = [
        "fraud",
        "evaluate",
        "--transactions",
        str(table),
        "--quiet",
        "--valid-train-starts",
        "2018-04-08,2018-04-11",
        "--test-train-starts",
        "2018-04-18,2018-04-25",
    ]
    assert main(argv) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == 1
    result = json.loads(lines[0])
    for metric in ("roc_auc", "average_precision", "card_precision_at_100"):
        values = [f[metric] for f in result["per_fold"]]
        assert result[metric] == pytest.approx(np.mean(values), abs=1e-3)
    assert [f["train_start"] for f in result["per_fold"]] == ["2018-04-18", "2018-04-25"]
    assert result["per_fold"][1]["test"] == "2018-05-09..2018-05-15"
    assert len(result["tried"]) == len(DEFAULT_GRID)
    chosen = [t for t in result["tried"] if t["candidate"] == result["chosen"]["candidate"]]
    assert len(chosen) == 1
    best = max(t["average_precision"] for t in result["tried"])
    assert chosen[0]["average_precision"] == best == result["validation"]["average_precision"]
    assert result["warnings"] == []
    # A five-fold amount is easy to see against the card's own history.
    assert result["roc_auc"] > 0.9


def test_evaluate_refuses_bad_input(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    table = synthetic_table(tmp_path / "tx.parquet", days=20)
    assert main(["fraud", "evaluate", "--transactions", str(tmp_path / "none.parquet")]) == 2
    assert "no such file" in capsys.readouterr().err
    # The default folds need 2018-06-20 .. 09-04, which this table does not reach.
    assert main(["fraud", "evaluate", "--transactions", str(table)]) == 2
    assert "the table covers 2018-04-01..2018-04-20" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exit_info:
        main(["fraud", "evaluate", "--transactions", str(table), "--test-train-starts", "x"])
    assert exit_info.value.code == 2
    assert "not a date" in capsys.readouterr().err
    pl.DataFrame({"TX_DATETIME": [datetime(2018, 4, 1)]}).write_parquet(tmp_path / "bad.parquet")
    argv = [
        "fraud",
        "evaluate",
        "--transactions",
        str(tmp_path / "bad.parquet"),
        "--valid-train-starts",
        "2018-04-01",
        "--test-train-starts",
        "2018-04-01",
        "--train-days",
        "0",
        "--test-days",
        "1",
        "--delay-days",
        "0",
    ]
    assert main(argv) == 2
    assert "lack columns" in capsys.readouterr().err

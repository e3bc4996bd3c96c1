"""`vouch trust score` and `vouch trust evaluate` on a tiny CSV."""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
import pytest

from cli import build_parser, main

EDGES = """1,2,10,1400000000
2,1,8,1400000100
3,1,9,1400000200
1,3,7,1400000300
4,1,-10,1400000400
1,4,-9,1400000500
3,4,-7,1400000600
5,4,10,1400000700
4,5,10,1400000800
2,3,3,1400000900
"""


@pytest.mark.parametrize("command", [["trust"], ["trust", "score"], ["trust", "evaluate"]])
def test_trust_commands_have_help(command: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        build_parser().parse_args([*command, "--help"])
    assert exit_info.value.code == 0
    assert "usage: vouch trust" in capsys.readouterr().out


def test_score_then_evaluate(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    edges, labels, out = tmp_path / "edges.csv", tmp_path / "gt.csv", tmp_path / "out.csv"
    edges.write_text(EDGES)
    labels.write_text("1,+1\n3,+1\n4,-1\n5,-1\n1,+1\n")
    assert main(["trust", "score", "--edges", str(edges), "--out", str(out)]) == 0
    summary = json.loads(capsys.readouterr().out.strip())
    assert summary["nodes"] == 5 and summary["edges"] == 10 and summary["rating_scale"] == 10
    scores = pl.read_csv(out)
    assert {"node_id", "trust", "fairness", "goodness", "propagated_trust"} <= set(scores.columns)
    trust = dict(zip(scores["node_id"], scores["trust"], strict=True))
    assert trust[1] > trust[4]

    assert main(["trust", "evaluate", "--edges", str(edges), "--labels", str(labels)]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == 1
    both = json.loads(lines[0])
    assert both["protocol"] == "both" and both["full"]["labelled"] == 4
    assert 0 <= both["inductive"]["roc_auc"] <= 1 and "average_precision" in both["full"]

    argv = ["trust", "evaluate", "--edges", str(edges), "--labels", str(labels)]
    assert main([*argv, "--protocol", "inductive"]) == 0
    one = json.loads(capsys.readouterr().out.strip())
    assert one["protocol"] == "inductive" and one["edges_hidden"] > 0


def test_score_with_given_seeds(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    edges, seeds, out = tmp_path / "edges.csv", tmp_path / "seeds.csv", tmp_path / "out.csv"
    edges.write_text(EDGES)
    seeds.write_text("5\n")
    assert (
        main(["trust", "score", "--edges", str(edges), "--out", str(out), "--seeds", str(seeds)])
        == 0
    )
    assert json.loads(capsys.readouterr().out.strip())["seeds"] == 1
    scores = pl.read_csv(out)
    assert scores.filter(pl.col("seed"))["node_id"].to_list() == [5]

"""The Markdown plots in materialisation metadata count what they claim to."""

from __future__ import annotations

import numpy as np

from pipelines.metadata import histogram_md, precision_recall_md


def test_histogram_md_counts_each_bin_and_closes_the_last() -> None:
    table = histogram_md(np.array([0.0, 0.05, 0.05, 0.5, 1.0]), edges=[0, 0.1, 0.5, 1], label="r")
    rows = table.splitlines()
    assert rows[0] == "| r | users | share | |"
    assert rows[2].startswith("| 0.00–0.10 | 3 | 60.0% | ") and rows[2].endswith("█" * 30 + " |")
    assert rows[3].startswith("| 0.10–0.50 | 0 | 0.0% |")
    assert rows[4].startswith("| 0.50–1.00 | 2 | 40.0% | ")  # 0.5 and 1.0 both in the last


def test_precision_recall_md_cuts_by_count() -> None:
    labels = np.array([1, 0, 1, 0, 0, 1])
    scores = np.array([0.9, 0.8, 0.7, 0.6, 0.5, 0.1])
    rows = precision_recall_md(labels, scores, ks=[1, 3, 6, 10]).splitlines()
    assert rows[2:] == ["| 1 | 1.000 | 0.333 |", "| 3 | 0.667 | 0.667 |", "| 6 | 0.500 | 1.000 |"]

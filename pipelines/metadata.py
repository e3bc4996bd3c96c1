"""Small plots as Markdown, for materialisation metadata: the Dagster UI renders Markdown tables
inline, so an ops person sees a score distribution or a precision-recall trade-off on the run's
page without opening MLflow (whose PNGs of the same curves stay the reference)."""

from __future__ import annotations

import numpy as np

BAR = 30  # characters of the longest bar


def histogram_md(values: np.ndarray, *, edges: list[float], label: str) -> str:
    """A table with one row per bin ``[edges[i], edges[i+1])`` (the last bin closed): count,
    share and a bar scaled to the fullest bin."""
    counts, _ = np.histogram(values, bins=edges)
    top, total = max(int(counts.max(initial=0)), 1), max(len(values), 1)
    rows = [f"| {label} | users | share | |", "|---|---:|---:|---|"]
    for lo, hi, n in zip(edges[:-1], edges[1:], counts, strict=True):
        bar = "█" * round(BAR * int(n) / top)
        rows.append(f"| {lo:.2f}–{hi:.2f} | {int(n):,} | {n / total:.1%} | {bar} |")
    return "\n".join(rows)


def precision_recall_md(labels: np.ndarray, scores: np.ndarray, *, ks: list[int]) -> str:
    """Precision and recall of the ``k`` highest scores, per ``k``: the review queue's view of a
    PR curve (an analyst team works down the list, so the cut is a count, not a threshold)."""
    order = np.argsort(-scores, kind="stable")
    hits = np.cumsum(labels[order] > 0)
    positives = max(int((labels > 0).sum()), 1)
    rows = ["| top k | precision | recall |", "|---:|---:|---:|"]
    for k in ks:
        if 0 < k <= len(order):
            rows.append(f"| {k:,} | {hits[k - 1] / k:.3f} | {hits[k - 1] / positives:.3f} |")
    return "\n".join(rows)

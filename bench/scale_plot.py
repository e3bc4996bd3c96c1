"""bench.scale's picture: each step's wall time and peak RSS against lake events, log-log."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any


def plot(sizes: list[dict[str, Any]], *, steps: Sequence[str], path: Path) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    events = [s["events"] for s in sizes]
    fig, axes = plt.subplots(1, 2, figsize=(11, 4.6))
    for ax, key, label in (
        (axes[0], "seconds", "wall time (s)"),
        (axes[1], "peak_rss_mb", "peak RSS (MB)"),
    ):
        for step in steps:
            ax.plot(events, [s["steps"][step][key] for s in sizes], marker="o", label=step)
        # A linear guide through the first size of the largest step: slope 1 on log-log.
        top = max(sizes[0]["steps"][step][key] for step in steps)
        ax.plot(events, [top * e / events[0] for e in events], "k--", lw=0.8, label="linear")
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel("events in the lake")
        ax.set_ylabel(label)
        ax.grid(True, which="both", alpha=0.3)
    axes[1].axhline(4096, color="red", lw=0.8, ls=":", label="4 GB goal")
    axes[1].legend(fontsize=7, loc="center left", bbox_to_anchor=(1.0, 0.5))
    fig.suptitle(f"Daily pipeline cost by step, {sizes[0]['days']} days")
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=80)
    plt.close(fig)
    return path

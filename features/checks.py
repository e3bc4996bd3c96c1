"""Checks on feature tables, for the pipeline's asset checks: ranges and drift between snapshots."""

from __future__ import annotations

import polars as pl


def out_of_range(frame: pl.DataFrame, bounds: dict[str, tuple[float, float]]) -> dict[str, int]:
    """Rows outside [lo, hi] (or NaN) per column; only columns with at least one such row."""
    counts = frame.select(
        (~pl.col(c).is_between(lo, hi) | pl.col(c).is_nan()).sum().alias(c)
        for c, (lo, hi) in bounds.items()
    ).row(0, named=True)
    return {c: n for c, n in counts.items() if n}


def drift(
    current: pl.DataFrame, previous: pl.DataFrame, *, key: str, column: str, moved: float = 0.3
) -> dict[str, float]:
    """How ``column`` changed for the keys both snapshots share.

    ``mean_abs_change``, ``moved_share`` (share of keys that moved by more than ``moved``),
    ``rank_correlation`` (Spearman) and ``shared`` (keys in both).
    """
    both = current.select(key, pl.col(column).alias("now")).join(
        previous.select(key, pl.col(column).alias("before")), on=key
    )
    if both.height < 2:
        return {
            "shared": float(both.height),
            "mean_abs_change": 0.0,
            "moved_share": 0.0,
            "rank_correlation": 1.0,
        }
    change = (pl.col("now") - pl.col("before")).abs()
    stats = both.select(
        change.mean().alias("mean_abs_change"),
        (change > moved).mean().alias("moved_share"),
        pl.corr("now", "before", method="spearman").alias("rank_correlation"),
    ).row(0, named=True)
    return {"shared": float(both.height), **{k: float(v or 0.0) for k, v in stats.items()}}

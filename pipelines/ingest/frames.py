"""Small helpers for the wide event frames (a 60-field payload struct makes every copy count)."""

from __future__ import annotations

import numpy as np
import polars as pl


def keep(frame: pl.DataFrame, mask: np.ndarray | pl.Series) -> pl.DataFrame:
    """``frame.filter(mask)``, skipped when it would keep every row (wide frames copy slowly)."""
    mask = mask if isinstance(mask, pl.Series) else pl.Series(mask, dtype=pl.Boolean)
    return frame if mask.all() else frame.filter(mask)

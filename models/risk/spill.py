"""The fraud model's training rows on disk: written a pass at a time, read back in pieces.

At 100,000 users the training rows (users x snapshots x ~300 features) are ~4 GB as one frame,
while training reads every row's label but the features of only its sample (every positive and
``train.MAX_UNLABELLED`` others), and the history scores a block of rows at a time. So the rows
go to Parquet as ``data.training_parts`` makes them and come back as a ``LazyFrame``; the files
are the caller's to remove (a temporary directory around the run).
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import polars as pl

# Rows per file: a block of ``release.risk_history``, so a block's read touches one file.
ROWS_PER_FILE = 100_000


def spill(parts: Iterable[pl.DataFrame], *, directory: Path) -> pl.LazyFrame:
    """Write ``parts`` (in order) under ``directory`` and scan them back as one frame whose rows
    are the parts' concatenated, in order."""
    directory.mkdir(parents=True, exist_ok=True)
    paths: list[Path] = []
    for part in parts:
        for block in part.iter_slices(ROWS_PER_FILE):
            path = directory / f"part-{len(paths):05d}.parquet"
            # lz4: the files live for one run, so writing fast beats writing small.
            block.write_parquet(path, compression="lz4", statistics=False)
            paths.append(path)
        del part  # the pass's rows go before the next pass is built
    if not paths:
        raise ValueError("no training rows: no snapshot in the lookback")
    return pl.scan_parquet(paths)

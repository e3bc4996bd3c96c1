"""How every feature table describes its columns: name, dtype, meaning, whether null may occur.

Shared by the per-area schema modules; ``features.schema`` gathers them into one contract.
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl


@dataclass(frozen=True)
class Feature:
    name: str
    dtype: type[pl.DataType] | pl.DataType
    meaning: str
    nullable: bool = False  # null has a documented meaning; otherwise never null


def polars_schema(columns: tuple[Feature, ...]) -> dict[str, pl.DataType]:
    return {c.name: c.dtype() if isinstance(c.dtype, type) else c.dtype for c in columns}


def problems(frame: pl.DataFrame, features: tuple[Feature, ...]) -> list[str]:
    """What in ``frame`` breaks the contract: missing columns, wrong dtypes, unexpected nulls."""
    found = []
    for f in features:
        if f.name not in frame.columns:
            found.append(f"{f.name}: missing")
        elif frame.schema[f.name] != f.dtype:
            found.append(f"{f.name}: {frame.schema[f.name]}, expected {f.dtype}")
        elif not f.nullable and frame[f.name].null_count():
            found.append(f"{f.name}: {frame[f.name].null_count()} nulls, none allowed")
    return found

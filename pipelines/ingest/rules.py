"""The contract's rules as column expressions: which parsed rows are valid, and their lake form.

Derived from the contract's field rules, never written by hand: a row these rules accept must be
one ``core_api.events.parse_event`` accepts (a property test holds them to it). Rows they refuse
go back to ``parse_event`` for the reason.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import numpy as np
import polars as pl
import pyarrow as pa

from core_api.events import (
    CONTEXT_RULES,
    EARLIEST,
    PAYLOADS,
    SUPPORTED_SCHEMA_VERSIONS,
    TIMESTAMP_RE,
    UUID_RE,
    Rule,
    payload_rules,
    type_fields,
)

_ENVELOPE_IDS = ("event_id", "actor_id", "subject_id")
# occurred_at parsed once, for the checks and the lake form alike (polars' eager select does not
# share the expression between them, and the parse is the dearest check).
_TIME = "_occurred_at"


def _valid_or_null(col: pl.Expr, rule: Rule) -> pl.Expr:
    checks: list[pl.Expr] = []
    if rule.pattern is not None:
        checks.append(col.str.contains(rule.pattern))
    if rule.choices is not None:
        checks.append(col.is_in(rule.choices))
    if rule.max_length is not None:
        checks.append(col.str.len_chars() <= rule.max_length)
    if rule.ge is not None:
        checks.append(col >= rule.ge)
    if rule.le is not None:
        checks.append(col <= rule.le)
    return col.is_null() | pl.all_horizontal(checks) if checks else pl.lit(True)


def _presence_ok(frame: pl.DataFrame) -> np.ndarray:
    """Each row is of a known type, carries all its type's required payload fields and no other
    type's fields."""
    names = list(payload_rules())
    types = [t.value for t in PAYLOADS]
    allowed = np.zeros((len(types) + 1, len(names)), bool)  # last row: unknown types
    required = np.zeros_like(allowed)
    for i, t in enumerate(PAYLOADS):
        for name, needed in type_fields(t).items():
            allowed[i, names.index(name)] = True
            required[i, names.index(name)] = needed
    code = (
        frame.select(
            pl.col("event_type").replace_strict(types, range(len(types)), default=len(types))
        )
        .to_series()
        .to_numpy()
    )
    present = frame.select(
        pl.col("payload").struct.field(n).is_not_null() for n in names
    ).to_numpy()
    known = code < len(types)
    return known & ~((present & ~allowed[code]) | (~present & required[code])).any(axis=1)


def _timestamp() -> pl.Expr:
    return (
        pl.col("occurred_at")
        .str.replace(r"\+00:00$", "Z")
        .str.to_datetime("%Y-%m-%dT%H:%M:%S%.fZ", time_unit="us", time_zone="UTC", strict=False)
    )


def with_time(frame: pl.DataFrame) -> pl.DataFrame:
    """The parsed rows with occurred_at parsed too, for ``valid_rows`` and ``to_lake``."""
    return frame.with_columns(_timestamp().alias(_TIME))


def valid_rows(frame: pl.DataFrame, *, now: datetime, max_future: timedelta) -> np.ndarray:
    """Boolean mask of the rows (WIRE_SCHEMA columns) that are valid events.

    The event type is checked with the payload's presence rules (``_presence_ok``).
    """
    frame = frame if _TIME in frame.columns else with_time(frame)
    ts = pl.col(_TIME)
    checks = [
        pl.col("schema_version").is_in(sorted(SUPPORTED_SCHEMA_VERSIONS)),
        pl.col("occurred_at").str.contains(TIMESTAMP_RE),
        ts.is_not_null(),
        ts <= now + max_future,
        ts >= EARLIEST,
        pl.col("context").is_not_null(),
        pl.col("payload").is_not_null(),
        *(pl.col(c).str.contains(UUID_RE) for c in _ENVELOPE_IDS),
        *(_valid_or_null(pl.col("context").struct.field(n), r) for n, r in CONTEXT_RULES.items()),
        *(_valid_or_null(pl.col("payload").struct.field(n), r) for n, r in payload_rules().items()),
    ]
    ok = frame.select(pl.all_horizontal(checks).fill_null(False).alias("ok")).to_series()
    return ok.to_numpy() & _presence_ok(frame)


def _lake_value(name: str, rule: Rule) -> pl.Expr:
    col = pl.col("payload").struct.field(name)
    if rule.is_id:
        col = col.str.to_lowercase()
    elif rule.lake != rule.wire:
        col = col.cast(pl.from_arrow(pa.array([], rule.lake)).dtype)
    return col.alias(name)


def to_lake(frame: pl.DataFrame) -> pl.DataFrame:
    """Valid wire rows in the lake's form: lower-case ids, UTC times, decimal amounts."""
    return frame.select(
        *(pl.col(c).str.to_lowercase() for c in ("event_id",)),
        pl.col("event_type"),
        (pl.col(_TIME) if _TIME in frame.columns else _timestamp()).alias("occurred_at"),
        *(pl.col(c).str.to_lowercase() for c in ("actor_id", "subject_id")),
        pl.col("context"),
        pl.struct([_lake_value(n, r) for n, r in payload_rules().items()]).alias("payload"),
        pl.col("schema_version").cast(pl.Int32),
    )

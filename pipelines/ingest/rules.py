"""The contract's rules as column expressions: which parsed rows are valid, and their lake form.

Derived from the contract's field rules, never written by hand: a row these rules accept must be
one ``core_api.events.parse_event`` accepts (a property test holds them to it). Rows they refuse
go back to ``parse_event`` for the reason. Rows come one event type at a time (narrow payloads).
"""

from __future__ import annotations

from datetime import datetime, timedelta

import numpy as np
import polars as pl
import pyarrow as pa

from core_api.events import (
    CONTEXT_RULES,
    EARLIEST,
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
TIME = "_occurred_at"


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


def _timestamp() -> pl.Expr:
    return (
        pl.col("occurred_at")
        .str.replace(r"\+00:00$", "Z")
        .str.to_datetime("%Y-%m-%dT%H:%M:%S%.fZ", time_unit="us", time_zone="UTC", strict=False)
    )


def with_time(frame: pl.DataFrame) -> pl.DataFrame:
    """The parsed rows with occurred_at parsed too, for ``valid_rows`` and ``to_lake``."""
    return frame.with_columns(_timestamp().alias(TIME))


def valid_rows(
    frame: pl.DataFrame, *, event_type: str, now: datetime, max_future: timedelta
) -> np.ndarray:
    """Boolean mask of the rows of one type's lines in strict form that are valid events.

    ``frame``: the type's narrow wire columns (``columnar.parse_candidates``). Strict form already
    holds each line to its type's keys (no other type's field, every required one), so what is
    left are the values' own rules.
    """
    frame = frame if TIME in frame.columns else with_time(frame)
    rules, fields = payload_rules(), type_fields(event_type)
    ts = pl.col(TIME)
    checks = [
        pl.col("event_type") == event_type,
        pl.col("schema_version").is_in(sorted(SUPPORTED_SCHEMA_VERSIONS)),
        pl.col("occurred_at").str.contains(TIMESTAMP_RE),
        ts.is_not_null(),
        ts <= now + max_future,
        ts >= EARLIEST,
        pl.col("context").is_not_null(),
        *(pl.col(c).str.contains(UUID_RE) for c in _ENVELOPE_IDS),
        *(_valid_or_null(pl.col("context").struct.field(n), r) for n, r in CONTEXT_RULES.items()),
    ]
    if fields:
        payload = pl.col("payload")
        checks += [
            payload.is_not_null(),
            *(_valid_or_null(payload.struct.field(n), rules[n]) for n in fields),
            *(payload.struct.field(n).is_not_null() for n, needed in fields.items() if needed),
        ]
    ok = frame.select(pl.all_horizontal(checks).fill_null(False).alias("ok")).to_series()
    return ok.to_numpy()


_LAKE_TYPES = {n: pl.from_arrow(pa.array([], r.lake)).dtype for n, r in payload_rules().items()}


def _lake_value(name: str, rule: Rule) -> pl.Expr:
    col = pl.col("payload").struct.field(name)
    if rule.is_id:
        col = col.str.to_lowercase()
    elif rule.lake != rule.wire:
        col = col.cast(_LAKE_TYPES[name])
    return col.alias(name)


def to_lake(frame: pl.DataFrame, *, event_type: str) -> pl.DataFrame:
    """One type's valid rows in the lake's form: lower-case ids, UTC times, decimal amounts, the
    payload widened to every type's fields (the others null). Extra columns (``ROW``) stay."""
    fields = type_fields(event_type)
    payload = [
        _lake_value(n, r) if n in fields else pl.lit(None, _LAKE_TYPES[n]).alias(n)
        for n, r in payload_rules().items()
    ]
    extra = [c for c in frame.columns if c.startswith("_") and c != TIME]
    return frame.select(
        *extra,
        pl.col("event_id").str.to_lowercase(),
        pl.col("event_type"),
        (pl.col(TIME) if TIME in frame.columns else _timestamp()).alias("occurred_at"),
        *(pl.col(c).str.to_lowercase() for c in ("actor_id", "subject_id")),
        pl.col("context"),
        pl.struct(payload).alias("payload"),
        pl.col("schema_version").cast(pl.Int32),
    )

"""Parsing a batch of candidate lines column-wise, one event type at a time, strict form only.

Each line's event type is read off its head (the second key of the strict form), then each type's
lines are matched against that type's *strict form* (in polars, one pattern per type, the types
in parallel): the contract's keys in contract order, no whitespace, no escapes, no nulls, every
value of its JSON type (what ``to_wire`` writes). Only lines in strict form are parsed, by
DuckDB's JSON reader with the type's own narrow structure (its few payload fields, not the union
of every type's): the reader is lenient (numbers become strings, unknown keys vanish, trailing
commas pass), but a line in strict form is strict JSON that it cannot have bent, so its parsed
values are exact. Every other line goes to the per-line reference parser, which decides. Strict
form is what our producers write, so that is nearly every line.
"""

from __future__ import annotations

import json
from typing import Any

import duckdb
import numpy as np
import polars as pl
import pyarrow as pa

from core_api.events import (
    CONTEXT_RULES,
    ENVELOPE_FIELDS,
    PAYLOADS,
    EventType,
    Rule,
    payload_rules,
    type_fields,
)
from pipelines.ingest.lines import Lines

_DUCK = {"string": "VARCHAR", "int64": "BIGINT", "double": "DOUBLE", "bool": "BOOLEAN"}
_BATCH_ROWS = 8192  # DuckDB scans Arrow batches in parallel: give both cores some
ROW = "_i"  # each parsed row's line index in the batch


# The strict form, as regular expressions (Rust's regex syntax): no whitespace, no escapes, no
# nulls, keys in contract order.
# Integers stop at 18 digits and exponents at 2, so every value that matches fits its column.
_STRING = r'"[^"\\\x00-\x1f]*"'
_JSON = {
    "string": _STRING,
    "int64": r"-?(0|[1-9][0-9]{0,17})",
    "double": r"-?(0|[1-9][0-9]{0,17})(\.[0-9]{1,17})?([eE][+-]?[0-9]{1,2})?",
    "bool": r"(true|false)",
}
# Where a line in strict form with a valid event_id (36 characters) spells its type: read there
# (a slice is far cheaper than a pattern with a capture). Any other line gets a wrong type or
# none, and so no pattern, or one that spells another type and cannot match: the reference
# parser takes it.
_TYPE_AT = len('{"event_id":"') + 36 + len('","event_type":"')


def _members(fields: list[tuple[str, Rule, bool]], *, first: bool = True) -> str:
    """Pattern for ``"k":v`` members in this order, optional ones maybe absent, comma-separated."""
    if not fields:
        return ""
    (name, rule, required), rest = fields[0], fields[1:]
    member = ("" if first else ",") + f'"{name}":' + _JSON[str(rule.wire)]
    if required:
        return member + _members(rest, first=False)
    with_it = member + _members(rest, first=False)
    without = _members(rest, first=first)
    return f"({with_it}|{without})" if without else f"({with_it})?"


def strict_form(event_type: EventType) -> str:
    """RE2 pattern of a whole line (newline included) in strict form, for one event type."""
    rules = payload_rules()
    payload = [(n, rules[n], req) for n, req in type_fields(event_type).items()]
    context = [(n, r, False) for n, r in CONTEXT_RULES.items()]
    head = ",".join(f'"{n}":{_STRING}' for n in ENVELOPE_FIELDS[:5])
    return (
        "\\{"
        + head
        + ',"context":\\{'
        + _members(context)
        + '\\},"payload":\\{'
        + _members(payload)
        + '\\},"schema_version":'
        + _JSON["int64"]
        + "\\}\n"
    )


# One compiled pattern per type, applied to that type's lines only: RE2 inside a DuckDB CASE
# costs ~3.5 us a line (most of it per call), Rust's regex per type about a third of that.
_PATTERNS = {t.value: strict_form(t) for t in PAYLOADS}


def _structure(rules: dict[str, Rule]) -> dict[str, str]:
    return {name: _DUCK[str(rule.wire)] for name, rule in rules.items()}


def narrow_structure(event_type: EventType) -> dict[str, Any]:
    """What DuckDB's reader is told one type's lines hold (a type without payload fields: no
    payload column; its strict form holds ``{}``)."""
    rules = payload_rules()
    payload = _structure({n: rules[n] for n in type_fields(event_type)})
    return {
        **dict.fromkeys(ENVELOPE_FIELDS[:5], "VARCHAR"),
        "context": _structure(CONTEXT_RULES),
        **({"payload": payload} if payload else {}),
        "schema_version": "BIGINT",
    }


_QUERIES = {
    t.value: f"SELECT {ROW}, unnest(json_transform(line, '{json.dumps(narrow_structure(t))}')) "
    "FROM part"
    for t in PAYLOADS
}


def strict_by_type(lines: pl.Series, rows: pl.Series) -> dict[str, pl.DataFrame]:
    """Per event type, its lines (newline included) in strict form, with their ``rows``."""
    frame = pl.DataFrame([rows.alias(ROW), lines.alias("line")])
    head = pl.col("line").str.slice(_TYPE_AT, 64)
    typed = frame.with_columns(head.str.slice(0, head.str.find('"', literal=True)).alias("t"))
    typed = typed.lazy()
    names = list(_PATTERNS)
    # The pattern in a select after the type's filter: inside the filter's predicate polars
    # would match every line against every type's pattern.
    queries = [
        typed.filter(pl.col("t") == name).select(
            ROW, "line", pl.col("line").str.contains(f"^{pattern}$").alias("strict")
        )
        for name, pattern in _PATTERNS.items()
    ]
    parts = pl.collect_all(queries)  # the types in parallel
    strict = {n: p.filter("strict").drop("strict") for n, p in zip(names, parts, strict=True)}
    return {name: part for name, part in strict.items() if part.height}


def _parse(con: duckdb.DuckDBPyConnection, event_type: str, part: pl.DataFrame) -> pl.DataFrame:
    table = part.to_arrow()
    con.register("part", pa.Table.from_batches(table.to_batches(_BATCH_ROWS)))
    frame = pl.from_arrow(con.sql(_QUERIES[event_type]).to_arrow_table())
    con.unregister("part")
    assert isinstance(frame, pl.DataFrame)
    # DuckDB keeps insertion order by default (preserve_insertion_order); rows are matched to
    # their lines by ROW all the same.
    return frame


def parse_candidates(lines: Lines, idx: np.ndarray) -> tuple[dict[str, pl.DataFrame], np.ndarray]:
    """Per event type, the wire columns (narrow payload) of the lines ``idx`` in strict form,
    with their line index in ``ROW``; and the indexes (sorted) of the lines not in strict form.

    The lines must be valid UTF-8 (the screen in ``lines.fast_candidates`` sees to it).
    """
    if len(idx) == 0:
        return {}, idx
    # Each value runs to the next line's start, newline included: Arrow offsets are contiguous.
    offsets = np.append(lines.starts, len(lines.data)).astype(np.int64)
    every = pa.LargeStringArray.from_buffers(
        len(lines), pa.py_buffer(offsets), pa.py_buffer(lines.data)
    )
    chosen = every if len(idx) == len(lines) else every.take(pa.array(idx))  # all: no copy
    series = pl.Series("line", chosen)
    strict = strict_by_type(series, pl.Series(ROW, idx, pl.Int64))
    parsed = {}
    with duckdb.connect() as con:
        for event_type, part in strict.items():
            parsed[event_type] = _parse(con, event_type, part)
    taken = np.zeros(len(lines), bool)
    for part in strict.values():
        taken[part.get_column(ROW).to_numpy()] = True
    return parsed, idx[~taken[idx]]

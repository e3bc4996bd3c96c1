"""Parsing a batch of candidate lines column-wise, and proving each one is in strict form.

DuckDB's JSON reader turns the lines into the wire columns in one multi-threaded pass. It is
lenient (numbers become strings, unknown keys vanish, trailing commas pass), so each line is also
matched against its type's *strict form* (in polars, one pattern per type, the types in
parallel): the contract's keys in contract order, no whitespace, no escapes, no nulls, every
value of its JSON type (what ``to_wire`` writes). A line in strict form is strict JSON that the
lenient reader cannot have bent, so its parsed values are exact; every other line goes to the
per-line reference parser, which decides. Strict form is what our producers write, so that is
nearly every line.
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
    WIRE_SCHEMA,
    EventType,
    Rule,
    payload_rules,
    type_fields,
)
from pipelines.ingest.lines import Lines

_DUCK = {"string": "VARCHAR", "int64": "BIGINT", "double": "DOUBLE", "bool": "BOOLEAN"}
_BATCH_ROWS = 8192  # DuckDB scans Arrow batches in parallel: give both cores some


def _structure(t: pa.DataType) -> Any:
    if pa.types.is_struct(t):
        return {t.field(i).name: _structure(t.field(i).type) for i in range(t.num_fields)}
    return _DUCK[str(t)]


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

_QUERY = f"""
WITH parsed AS (
    SELECT row, unnest(CASE WHEN json_valid(line) THEN json_transform(line, '{
    json.dumps({f.name: _structure(f.type) for f in WIRE_SCHEMA})
}') END)
    FROM batch
)
SELECT row, {", ".join(ENVELOPE_FIELDS)} FROM parsed
"""


def strict_lines(lines: pl.Series, event_type: pl.Series) -> np.ndarray:
    """Mask of the lines (newline included) in their type's strict form; unknown types: False.

    ``event_type`` only picks the pattern: the pattern itself spells the type it matches.
    """
    frame = pl.DataFrame({"line": lines, "t": event_type}).with_row_index("i").lazy()
    queries = [
        frame.filter(pl.col("t") == name).select("i", pl.col("line").str.contains(f"^{p}$"))
        for name, p in _PATTERNS.items()
    ]
    ok = np.zeros(len(lines), bool)
    for part in pl.collect_all(queries):  # the types in parallel
        ok[part.get_column("i").to_numpy()] = part.get_column("line").to_numpy()
    return ok


def parse_candidates(lines: Lines, idx: np.ndarray) -> pl.DataFrame:
    """Wire columns for the lines ``idx`` (in that order) and ``canonical``: line == encoding.

    The lines must be valid UTF-8 (the screen in ``lines.fast_candidates`` sees to it).
    """
    if len(idx) == 0:
        empty = pl.from_arrow(WIRE_SCHEMA.empty_table())
        assert isinstance(empty, pl.DataFrame)
        return empty.with_columns(pl.lit(False).alias("canonical"))
    # Each value runs to the next line's start, newline included: Arrow offsets are contiguous.
    offsets = np.append(lines.starts, len(lines.data)).astype(np.int64)
    every = pa.LargeStringArray.from_buffers(
        len(lines), pa.py_buffer(offsets), pa.py_buffer(lines.data)
    )
    chosen = every if len(idx) == len(lines) else every.take(pa.array(idx))  # all: no copy
    batch = pa.table({"row": pa.array(idx, pa.int64()), "line": chosen})
    with duckdb.connect() as con:
        con.register("batch", pa.Table.from_batches(batch.to_batches(_BATCH_ROWS)))
        result = con.sql(_QUERY).to_arrow_table()
    frame = pl.from_arrow(result)
    assert isinstance(frame, pl.DataFrame)
    # DuckDB keeps insertion order by default (preserve_insertion_order); callers rely on it,
    # and sorting this wide frame would cost more than the check.
    if not frame.get_column("row").is_sorted():
        frame = frame.sort("row")
    canonical = strict_lines(pl.Series("line", chosen), frame.get_column("event_type"))
    return frame.select(*ENVELOPE_FIELDS).with_columns(pl.Series("canonical", canonical))

"""Columnar JSON parsing of candidate lines, recovering around the lines the reader refuses.

The Arrow reader stops at the first bad row of a single-block read and names it ("in row N"), so a
refused line costs one re-read of the rows before it, not a re-read of the whole chunk. Errors
without a row (a number that does not fit its type) fall back to bisection.
"""

from __future__ import annotations

import os
import re
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pyarrow as pa
import pyarrow.json as pj

from core_api.events import WIRE_SCHEMA
from pipelines.ingest.lines import Lines

CHUNK_BYTES = 8 << 20
_PARSE = pj.ParseOptions(explicit_schema=WIRE_SCHEMA, unexpected_field_behavior="error")
_ROW = re.compile(r"in row (\d+)\s*$")

Piece = tuple[pa.Table, np.ndarray]


def _read(buf: pa.Buffer, lo: int, hi: int) -> pa.Table:
    options = pj.ReadOptions(use_threads=False, block_size=hi - lo + 1)
    return pj.read_json(pa.BufferReader(buf[lo:hi]), read_options=options, parse_options=_PARSE)


def _parse_span(buf: pa.Buffer, lines: Lines, idx: np.ndarray) -> tuple[list[Piece], list[int]]:
    done: list[Piece] = []
    refused: list[int] = []
    todo = [idx]
    while todo:
        sub = todo.pop()
        if len(sub) == 0:
            continue
        row: int | None = None
        try:
            table = _read(buf, int(lines.starts[sub[0]]), int(lines.ends[sub[-1]]))
            if table.num_rows == len(sub):
                done.append((table, sub))
                continue
        except (pa.ArrowInvalid, UnicodeDecodeError) as exc:
            found = _ROW.search(str(exc))
            row = int(found.group(1)) if found else None
        if len(sub) == 1:
            refused.append(int(sub[0]))
        elif row is not None and row < len(sub):
            refused.append(int(sub[row]))
            todo += [sub[row + 1 :], sub[:row]]
        else:
            mid = len(sub) // 2
            todo += [sub[mid:], sub[:mid]]
    return done, refused


def _spans(lines: Lines, idx: np.ndarray, chunk_bytes: int) -> list[np.ndarray]:
    if len(idx) == 0:
        return []
    offsets = lines.starts[idx]
    cut = np.searchsorted(offsets, np.arange(offsets[0], offsets[-1] + 1, chunk_bytes)[1:])
    return [s for s in np.split(idx, np.unique(cut)) if len(s)]


def parse_candidates(
    buf: bytes, lines: Lines, idx: np.ndarray, *, chunk_bytes: int = CHUNK_BYTES
) -> tuple[pa.Table, np.ndarray, list[int]]:
    """Parse the candidate lines ``idx`` (other lines of ``buf`` are blank).

    Returns the rows (WIRE_SCHEMA), the line index of every row, and the lines the reader refused.
    """
    arrow_buf = pa.py_buffer(buf)
    spans = _spans(lines, idx, chunk_bytes)
    workers = min(len(spans), os.cpu_count() or 1) or 1
    with ThreadPoolExecutor(max_workers=workers) as pool:
        results = list(pool.map(lambda s: _parse_span(arrow_buf, lines, s), spans))
    pieces = sorted((p for done, _ in results for p in done), key=lambda p: int(p[1][0]))
    refused = sorted(i for _, r in results for i in r)
    if not pieces:
        return WIRE_SCHEMA.empty_table(), np.empty(0, np.int64), refused
    table = pa.concat_tables([t for t, _ in pieces])
    return table, np.concatenate([s for _, s in pieces]), refused

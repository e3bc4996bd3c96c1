"""Reason codes: a score version says each repeated reason once, in its own dictionary.

The reasons are most of a record's bytes (three sentences of ~30 B, out of ~150 B a line) and
most of the time to publish them; they repeat across users. So a version's reasons go in a
dictionary written once with the version (``keys.codes_key`` on Redis, the ``codes`` table on
SQLite; a JSON list, code ``i`` says ``book[i]``), and each record's reasons are ``;``-separated
*tokens*: a token of ASCII digits is a code, anything else the reason's own text. Reasons said
only once stay text (coding them saves nothing), as do the rarest beyond ``MAX_CODES``, so the
dictionary a reader caches per version stays small however varied the reasons are. A reason
that could not stand as text (digits only, empty, or holding ``;``, a tab or a line break) is
always coded. Readers map tokens back with :func:`said`; a version published before the
dictionary (its manifest has no ``reason_codes``) has text tokens only, read with ``book=None``.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import numpy as np
import polars as pl
import pyarrow as pa
import pyarrow.compute as pc

SEP = ";"
MAX_CODES = 65_536  # a reader's cache per version: ~5 MB at most
LISTS = ("reasons", "credit_reasons")  # the list columns of ``user_scores`` that are coded
LARGE = pa.large_string()  # what polars hands Arrow
_NOT_TEXT = r"^[0-9]*$|[;\t\n\r]"  # reasons that must be coded (see the module doc)


def said(field: str, book: Sequence[str] | None) -> tuple[str, ...]:
    """The reasons of one record's reason field (``book``: its version's dictionary, ``None``
    for a version published before codes)."""
    if not field:
        return ()
    tokens = field.split(SEP)
    if book is None:
        return tuple(tokens)
    return tuple(book[int(t)] if t.isdigit() and t.isascii() else t for t in tokens)


def dumps(book: Sequence[str]) -> str:
    return json.dumps(list(book), ensure_ascii=False)


def loads(text: str | bytes) -> tuple[str, ...]:
    return tuple(json.loads(text))


def code_reasons(scores: pl.DataFrame) -> tuple[tuple[str, ...], pl.DataFrame]:
    """The version's dictionary and ``scores`` with each list column of ``LISTS`` replaced by
    its records' token strings (null where the list is null), ready for ``keys.record_expr``.

    One hashing pass over every reason (Arrow's ``dictionary_encode``); the choice of codes
    is made on the distinct reasons only, and the tokens are joined by Arrow, not per row."""
    names = [c for c in LISTS if c in scores.columns]
    # pyarrow's stubs type these kernels' results too narrowly for mypy: Any, deliberately
    lists: list[Any] = [_list_array(scores.get_column(c)) for c in names]
    flats: list[Any] = [pc.list_flatten(a) for a in lists]
    every: Any = flats[0] if len(flats) == 1 else pa.concat_arrays(flats or [pa.array([], LARGE)])
    encoded: Any = pc.dictionary_encode(every)
    distinct = encoded.dictionary
    index = encoded.indices.to_numpy(zero_copy_only=False)
    counts = np.bincount(index, minlength=len(distinct))
    forced = np.asarray(pc.match_substring_regex(distinct, _NOT_TEXT), dtype=bool)
    chosen = _choose(distinct, counts, forced)
    code_of = np.full(len(distinct), -1, dtype=np.int64)
    code_of[chosen] = np.arange(len(chosen))
    book = tuple(distinct.take(pa.array(chosen, pa.int64())).to_pylist())
    element = code_of[index]
    coded = element >= 0
    tokens = every
    if book:
        numbers = pa.array([str(i) for i in range(len(book))], LARGE)
        if coded.all():  # the usual case: no reason said only once
            tokens = numbers.take(element)
        else:
            picked = numbers.take(np.where(coded, element, 0))
            tokens = pc.if_else(pa.array(coded), picked, every)
    out, at = {}, 0
    for name, lists_of, flat in zip(names, lists, flats, strict=True):
        mine = tokens.slice(at, len(flat))
        at += len(flat)
        sizes = pc.fill_null(pc.list_value_length(lists_of), 0).to_numpy(zero_copy_only=False)
        offsets = pa.array(np.r_[0, np.cumsum(sizes)], pa.int64())
        rebuilt = pa.LargeListArray.from_arrays(offsets, mine, mask=lists_of.is_null())
        said_by_row: Any = pc.binary_join(rebuilt, pa.scalar(SEP, LARGE))
        joined = pl.from_arrow(said_by_row)
        assert isinstance(joined, pl.Series)
        out[name] = joined.alias(name)
    return book, scores.with_columns(**out)


def _list_array(column: pl.Series) -> Any:
    arr: Any = column.to_arrow()
    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks()
    return arr


def _choose(distinct: Any, counts: np.ndarray, forced: np.ndarray) -> np.ndarray:
    """Indices into ``distinct`` of the reasons that get codes, code order: those that must be
    coded, then the repeated ones by count (the most said get the shortest codes), at most
    ``MAX_CODES`` of the latter; ties in text order, so equal sets give equal dictionaries."""
    optional = np.flatnonzero(~forced & (counts >= 2))
    must = np.flatnonzero(forced)
    picked = []
    for group, cap in ((must, None), (optional, MAX_CODES)):
        if group.size == 0:
            continue
        table = pa.table({"n": pa.array(-counts[group]), "text": distinct.take(pa.array(group))})
        order = pc.sort_indices(table, sort_keys=[("n", "ascending"), ("text", "ascending")])
        picked.append(group[order.to_numpy()][:cap])
    return np.concatenate(picked) if picked else np.zeros(0, dtype=np.int64)

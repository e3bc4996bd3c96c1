"""Cutting a landing file into lines and deciding which ones the fast parser may see.

Only lines that look like a plain JSON object (``{`` ... ``}``, valid UTF-8, not oversized) go to
the columnar parser; everything else, and every line the columnar path cannot vouch for, takes the
per-line reference path (``core_api.events.parse_event``), which names the reason.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from core_api.events import MAX_LINE_BYTES

_SCAN_CHUNK = 1 << 22  # scanning in cache-sized pieces is ~3x faster than one pass over 100s of MB


@dataclass(frozen=True)
class Lines:
    """A file's bytes and the [start, end) offsets of its lines (newline and CR excluded)."""

    data: bytes | bytearray
    starts: np.ndarray
    ends: np.ndarray

    def __len__(self) -> int:
        return len(self.starts)

    def raw(self, i: int) -> bytes:
        return bytes(self.data[self.starts[i] : self.ends[i]])


def _positions(arr: np.ndarray, predicate: str) -> np.ndarray:
    found = []
    for lo in range(0, len(arr), _SCAN_CHUNK):
        piece = arr[lo : lo + _SCAN_CHUNK]
        hits = piece == 10 if predicate == "newline" else piece >= 0x80
        found.append(np.flatnonzero(hits) + lo)
    return np.concatenate(found) if found else np.empty(0, np.int64)


def split_lines(data: bytes | bytearray) -> Lines:
    arr = np.frombuffer(data, np.uint8)
    newlines = _positions(arr, "newline")
    starts = np.concatenate(([0], newlines + 1)).astype(np.int64)
    ends = np.concatenate((newlines, [len(data)])).astype(np.int64)
    if len(data) == 0 or data.endswith(b"\n"):
        starts, ends = starts[:-1], ends[:-1]  # no line after the final newline
    crlf = (ends > starts) & (arr[np.maximum(ends - 1, 0)] == 13)
    ends = ends - crlf
    return Lines(data, starts, ends)


def fast_candidates(lines: Lines) -> np.ndarray:
    """Boolean mask of lines the columnar parser may take; the rest go line by line.

    A candidate is a UTF-8 line that starts with ``{``, ends with ``}`` and fits the size limit.
    (A control byte needs no scan of its own: no strict form holds one, so a candidate that does
    goes on to the reference parser all the same.)
    """
    if len(lines) == 0:
        return np.zeros(0, bool)
    arr = np.frombuffer(lines.data, np.uint8)
    length = lines.ends - lines.starts
    nonempty = length > 0
    first = arr[np.where(nonempty, lines.starts, 0)]
    last = arr[np.where(nonempty, lines.ends - 1, 0)]
    ok = nonempty & (length <= MAX_LINE_BYTES) & (first == ord("{")) & (last == ord("}"))
    if not lines.data.isascii():
        high = _positions(arr, "high")
        for i in np.unique(np.searchsorted(lines.starts, high, side="right") - 1):
            if ok[i]:
                try:
                    lines.raw(i).decode("utf-8")
                except UnicodeDecodeError:
                    ok[i] = False
    return ok


_SPACE = np.zeros(256, bool)
_SPACE[list(b" \t\r\n\x0b\x0c")] = True  # what bytes.strip() strips


def blank_lines(lines: Lines) -> np.ndarray:
    """Mask of lines that hold nothing but white space (empty ones included)."""
    blank = lines.ends == lines.starts
    arr = np.frombuffer(lines.data, np.uint8)
    # Only a line that starts with white space can be all white space: check those one by one.
    maybe = np.flatnonzero(~blank & _SPACE[arr[np.minimum(lines.starts, len(arr) - 1)]])
    for i in maybe.tolist():
        blank[i] = not lines.raw(i).strip()
    return blank


def count_records(data: bytes) -> int:
    """Lines that are not blank, counted without parsing (the reconcile check's own count)."""
    lines = split_lines(data)
    return int(len(lines) - np.count_nonzero(blank_lines(lines))) if len(lines) else 0

"""Transport corruption: the broken lines an ingest meets in the wild, one kind per reason code.

Each kind is built from a real line so that only the intended defect is present; the tests check
that ``core_api.events.parse_event`` rejects every injected line with exactly that reason.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from dataclasses import dataclass, field

import numpy as np

from core_api.events import MAX_LINE_BYTES

KINDS = (
    "invalid_json",
    "truncated_line",
    "invalid_utf8",
    "not_an_object",
    "missing_field",
    "wrong_type",
    "unknown_event_type",
    "malformed_id",
    "bad_timestamp",
    "future_timestamp",
    "duplicate_key",
    "unknown_field",
    "unsupported_schema_version",
    "invalid_value",
    "oversized_line",
)
_UUID = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
_BAD_TIMES = ("{d} 12:00:00", "{d}T25:61:00Z", "1785542400", "{m}/{dd}/{y} 09:30")


def _sub(pattern: str, repl: str, *, line: str) -> str:
    out, n = re.subn(pattern, lambda _: repl, line, count=1)
    if n != 1:
        raise ValueError(f"no {pattern!r} in line")
    return out


def corrupt(line: str, kind: str, *, rng: np.random.Generator) -> bytes:
    """One wire line (without newline) turned into a line with exactly one defect of ``kind``."""
    if kind == "invalid_json":
        return line.replace(',"event_type":', ';"event_type":', 1).encode()
    if kind == "truncated_line":
        cut = line[: int(rng.integers(len(line) // 4, len(line) - 2))]
        return cut.rstrip("}").encode()
    if kind == "invalid_utf8":
        return line.encode().replace(b'"event_type":"', b'"event_type":"\xff\xfe', 1)
    if kind == "not_an_object":
        return (json.dumps(line) if rng.random() < 0.5 else f"[{line}]").encode()
    if kind == "missing_field":
        return _sub(rf'"actor_id":"{_UUID}",', "", line=line).encode()
    if kind == "wrong_type":
        return _sub(
            rf'"subject_id":"{_UUID}"', f'"subject_id":{int(rng.integers(1, 10**9))}', line=line
        ).encode()
    if kind == "unknown_event_type":
        return re.sub(r'"event_type":"([A-Z_]+)"', r'"event_type":"\1_V2"', line, count=1).encode()
    if kind == "malformed_id":
        return _sub(
            rf'"event_id":"{_UUID}"',
            f'"event_id":"evt_{int(rng.integers(1, 10**12)):x}"',
            line=line,
        ).encode()
    occurred = re.search(r'"occurred_at":"((\d{4})-(\d{2})-(\d{2})[^"]*)"', line)
    assert occurred is not None
    if kind == "bad_timestamp":
        y, m, d = occurred.group(2), occurred.group(3), occurred.group(4)
        bad = _BAD_TIMES[int(rng.integers(0, len(_BAD_TIMES)))].format(
            d=f"{y}-{m}-{d}", m=m, dd=d, y=y
        )
        return line.replace(occurred.group(1), bad, 1).encode()
    if kind == "future_timestamp":
        later = (
            str(int(occurred.group(2)) + 4) + occurred.group(1)[4:]
        )  # +4 keeps 29 February valid
        return line.replace(occurred.group(1), later, 1).encode()
    if kind == "duplicate_key":
        et = re.search(r'"event_type":"[A-Z_]+",', line)
        assert et is not None
        return line.replace('"occurred_at":', et.group(0) + '"occurred_at":', 1).encode()
    if kind == "unknown_field":
        return line.replace(',"schema_version":', ',"trace_id":"t-1","schema_version":', 1).encode()
    if kind == "unsupported_schema_version":
        return line.replace('"schema_version":1}', '"schema_version":2}', 1).encode()
    if kind == "invalid_value":
        if '"country":"' in line:
            return re.sub(r'"country":"[A-Z]{2}"', '"country":"usa"', line, count=1).encode()
        return line.replace('"context":{}', '"context":{"country":"usa"}', 1).encode()
    if kind == "oversized_line":
        huge = "Mozilla/5.0 " + "A" * (MAX_LINE_BYTES + 4096)
        return _sub(r'"user_agent":"[^"]*"', f'"user_agent":"{huge}"', line=line).encode()
    raise ValueError(kind)


@dataclass
class Faults:
    """Decides where lines break, file by file, and remembers every broken line for the truth."""

    rate: float
    by_kind: Counter[str] = field(default_factory=Counter)
    records: list[tuple[str, int, str, bool]] = field(
        default_factory=list
    )  # file, line, kind, replaced
    lost: int = 0
    _pending: list[tuple[int, str, bool]] = field(default_factory=list)

    def _kinds(self, k: int, rng: np.random.Generator) -> list[str]:
        missing = [x for x in KINDS if x not in self.by_kind]
        pool = [x for x in KINDS if x != "oversized_line"]
        drawn = [pool[i] for i in rng.integers(0, len(pool), size=k)]
        return (missing + drawn)[:k] if k >= len(missing) else missing[:k]

    def apply(
        self, lines: list[str], *, protected: np.ndarray, name: str, rng: np.random.Generator
    ) -> tuple[list[bytes] | None, np.ndarray]:
        """The file's lines (None: unchanged) and which input rows were replaced (events lost)."""
        replaced = np.zeros(len(lines), bool)
        k = int(rng.binomial(len(lines), self.rate)) if self.rate > 0 else 0
        if self.rate > 0 and not self.by_kind:
            k = max(k, len(KINDS))  # the first file with faults shows every kind at least once
        k = min(k, len(lines))
        if k == 0:
            return None, replaced
        out = [s.encode() for s in lines]
        rows = np.sort(rng.choice(len(lines), size=k, replace=False))
        inserts: dict[int, bytes] = {}
        for row, kind in zip(rows, self._kinds(k, rng), strict=True):
            line = lines[row]
            if kind == "oversized_line" and '"user_agent":"' not in line:
                kind = "invalid_json"
            bad = corrupt(line, kind, rng=rng)
            if rng.random() < 0.5 and not protected[row]:
                out[row] = bad
                replaced[row] = True
            else:
                inserts[int(row)] = bad
            self.by_kind[kind] += 1
            self._pending.append((int(row), kind, bool(replaced[row])))
        final: list[bytes] = []
        for i, b in enumerate(out):
            if i in inserts:
                final.append(inserts[i])
            final.append(b)
        self._flush(name, rows=rows, inserts=inserts)
        self.lost += int(replaced.sum())
        return final, replaced

    def _flush(self, name: str, *, rows: np.ndarray, inserts: dict[int, bytes]) -> None:
        """Translates input rows into output line numbers (insertions shift what follows)."""
        shift = np.cumsum([1 if i in inserts else 0 for i in range(int(rows.max()) + 1)])
        for row, kind, was_replaced in self._pending:
            before = int(shift[row - 1]) if row > 0 else 0
            self.records.append((name, row + before, kind, was_replaced))
        self._pending.clear()

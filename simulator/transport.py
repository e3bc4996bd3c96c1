"""Delivery into landing files: event ids, arrival times, late and duplicate delivery, corruption.

Folders are named by *arrival* date and split into one file per six hours of arrival. Lines whose
arrival falls after the run's end were never delivered and are dropped.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import numpy as np
import polars as pl

from simulator.base import DAY, HOUR, SECOND, Day, stream
from simulator.faults import Faults
from simulator.ids import random_uuids
from simulator.wire import compact, format_ts, nullify, render_lines

BUCKET = 6 * HOUR
LATE_SHARE = 0.003
DUP_SHARE = 0.001


def folder_name(us: int) -> str:
    return str(np.datetime64(us, "us").astype("datetime64[D]"))


class Transport:
    def __init__(self, out: Path, *, seed: int, end: int, faults: float) -> None:
        self.out = out
        self.seed = seed
        self.end = end
        self.faults = Faults(rate=faults)
        self.pending = pl.DataFrame(
            schema={
                "arr": pl.Int64,
                "line": pl.String,
                "et": pl.String,
                "dup": pl.Boolean,
                "shared": pl.Boolean,
            }
        )
        self.files: list[Path] = []
        self.lines = 0
        self.bytes = 0
        self.by_type: Counter[str] = Counter()
        self.late = 0
        self.duplicates = 0
        self.transport_truth: list[pl.DataFrame] = []

    def _ids(
        self, frames: pl.DataFrame, rng: np.random.Generator
    ) -> tuple[pl.DataFrame, pl.Series]:
        frames = frames.sort("ts", maintain_order=True)
        return frames, random_uuids(rng, frames.height)

    def bootstrap(self, frames: pl.DataFrame, start: int) -> None:
        """The import of accounts that existed before the run: one file, arriving on day one."""
        frames, eids = self._ids(frames, stream(self.seed, "bootstrap_ids"))
        lines = render_lines(frames, eids)
        path = self.out / folder_name(start) / "bootstrap.ndjson"
        self._write(path, lines.to_list())
        self._count(frames["et"], np.zeros(frames.height, bool))

    def deliver(self, day: Day, due: pl.DataFrame) -> None:
        rng = day.rng("transport")
        due, eids = self._ids(due, rng)
        n = due.height
        lines = render_lines(due, eids)
        ts = due["ts"].to_numpy()
        arr = ts + (rng.exponential(20 * SECOND, n)).astype(np.int64) + SECOND
        late = rng.random(n) < LATE_SHARE
        arr[late] = ts[late] + DAY + (rng.random(int(late.sum())) * 2 * DAY).astype(np.int64)
        dup = np.flatnonzero(rng.random(n) < DUP_SHARE)
        dup_arr = arr[dup] + BUCKET + (rng.random(dup.size) * 24 * HOUR).astype(np.int64)
        shared = np.zeros(n, bool)
        shared[dup] = True
        fresh = pl.DataFrame(
            {"arr": arr, "line": lines, "et": due["et"], "dup": np.zeros(n, bool), "shared": shared}
        )
        copies = fresh[dup].with_columns(arr=pl.Series(dup_arr), dup=pl.lit(True))
        self.late += int(late.sum())
        marked = np.flatnonzero(late | shared)
        dup_full = np.zeros(n, np.int64)
        dup_full[dup] = dup_arr
        self.transport_truth.append(
            compact(
                pl.DataFrame(
                    {
                        "event_id": eids.gather(marked),
                        "event_type": due["et"].gather(marked),
                        "occurred_at": format_ts(due["ts"].gather(marked)),
                        "late": late[marked],
                        "duplicated": shared[marked],
                        "arrival_at": format_ts(pl.Series(arr[marked])),
                        "duplicate_arrival_at": nullify(
                            format_ts(pl.Series(dup_full[marked])), ~shared[marked]
                        ),
                    }
                )
            )
        )
        self.pending = pl.concat([self.pending, fresh, copies])
        now = self.pending.filter(pl.col("arr") < day.d1).sort("arr", maintain_order=True)
        self.pending = compact(self.pending.filter(pl.col("arr") >= day.d1))
        self._flush_day(day, now)

    def _flush_day(self, day: Day, now: pl.DataFrame) -> None:
        bucket = ((now["arr"].to_numpy() - day.d0) // BUCKET).clip(0, 3)
        folder = self.out / folder_name(day.d0)
        for b in range(4):
            part = now.filter(pl.Series(bucket == b))
            if part.height == 0:
                continue
            path = folder / f"part-{b:04d}.ndjson"
            protected = (part["dup"] | part["shared"]).to_numpy()
            rng = stream(self.seed, f"faults:{path.parent.name}/{path.name}")
            lines = part["line"].to_list()
            out, replaced = self.faults.apply(
                lines, protected=protected, name=f"{path.parent.name}/{path.name}", rng=rng
            )
            self._write(path, out if out is not None else lines)
            self.duplicates += int(part["dup"].sum())
            self._count(part["et"].filter(~part["dup"]), replaced[~part["dup"].to_numpy()])

    def _count(self, et: pl.Series, replaced: np.ndarray) -> None:
        kept = et.filter(pl.Series(~replaced))
        for name, count in kept.value_counts().iter_rows():
            self.by_type[name] += count

    def _write(self, path: Path, lines: list[bytes] | list[str]) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        if lines and isinstance(lines[0], str):
            data = ("\n".join(lines) + "\n").encode()  # type: ignore[arg-type]
        else:
            data = b"\n".join(lines) + b"\n"  # type: ignore[arg-type]
        path.write_bytes(data)
        self.files.append(path)
        self.lines += len(lines)
        self.bytes += len(data)

    def undelivered(self) -> int:
        return int(self.pending.filter(~pl.col("dup")).height)

"""The embedded online store: one SQLite file, so ``make demo`` and a laptop need no server.

Each score version is its own table (``scores_<version>``, the records as the Redis pages hold
them) and a row of ``codes`` (its reason dictionary, ``serving.codes``): writing it never
touches what readers use, the pointer flip is one UPDATE, and dropping a version is a
``DROP TABLE``.
WAL mode lets readers go on during a publish; decisions use short busy timeouts so a locked
file costs them their latency budget, not a hang.
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from contextlib import closing
from dataclasses import replace
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path

import polars as pl
from tqdm import tqdm

from serving import codes, keys
from serving.keys import Manifest, ScoreRecord
from serving.store.base import Ask, Facts, Served

CHUNK_RECORDS = 100_000
_SCHEMA = """
CREATE TABLE IF NOT EXISTS versions (version TEXT PRIMARY KEY, published_at REAL NOT NULL,
                                     manifest TEXT);
CREATE TABLE IF NOT EXISTS pointer (name TEXT PRIMARY KEY, version TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS seen (user_id TEXT NOT NULL, kind TEXT NOT NULL, value TEXT NOT NULL,
                                 PRIMARY KEY (user_id, kind, value)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS overrides (user_id TEXT PRIMARY KEY, action TEXT NOT NULL,
                                      at REAL NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS codes (version TEXT PRIMARY KEY, book TEXT NOT NULL);
"""
# Rate counters live in a file of their own, without a journal or fsync: a decision's write is
# then one page write (p99 under 30 us here, where a WAL commit in the scores file costs ~50 us
# at p99 plus checkpoints). Counters are disposable: a file damaged by a crash is recreated.
_COUNTERS = """
PRAGMA journal_mode = MEMORY;
PRAGMA synchronous = OFF;
CREATE TABLE IF NOT EXISTS counters (key TEXT PRIMARY KEY, count INTEGER NOT NULL,
                                     expires REAL NOT NULL) WITHOUT ROWID;
"""
_POINTER = "SELECT version FROM pointer WHERE name = 'scores'"
_SEEN = (
    "EXISTS (SELECT 1 FROM seen WHERE user_id = ? AND kind = 'device' AND value = ?), "
    "EXISTS (SELECT 1 FROM seen WHERE user_id = ? AND kind = 'country' AND value = ?)"
)
_OVERRIDE = "(SELECT action FROM overrides WHERE user_id = ?1)"
_COLUMNS = "user_id TEXT PRIMARY KEY, record TEXT NOT NULL"
SWEEP_EVERY = 10_000  # counter increments between deletions of expired counters


def _table(version: str) -> str:
    if not version.replace("T", "").replace("Z", "").isdigit():
        raise ValueError(f"not a version id: {version!r}")
    return f"scores_{version}"


class SQLiteStore:
    """``ScoreStore`` and ``DecisionStore`` in one SQLite file (safe across threads and
    processes: one connection per thread, WAL)."""

    def __init__(
        self, path: Path | str, *, timeout_s: float = 0.05, progress: bool = False
    ) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.timeout_s = timeout_s
        self.progress = progress
        self._local = threading.local()
        self._served: Served | None = None
        self._increments = 0
        self.counters_path = self.path.with_name(self.path.stem + "-counters.sqlite")
        with closing(self._connect(timeout_s=30)) as conn:
            conn.executescript(_SCHEMA)
        self._open_counters(timeout_s=30).close()

    def _connect(self, *, timeout_s: float) -> sqlite3.Connection:
        conn = sqlite3.connect(
            self.path, timeout=timeout_s, isolation_level=None, check_same_thread=False
        )
        conn.execute("PRAGMA journal_mode = WAL")
        conn.execute("PRAGMA synchronous = NORMAL")  # WAL + NORMAL: durable at checkpoints
        return conn

    def _open_counters(self, *, timeout_s: float) -> sqlite3.Connection:
        try:
            conn = sqlite3.connect(
                self.counters_path, timeout=timeout_s, isolation_level=None, check_same_thread=False
            )
            conn.executescript(_COUNTERS)
            return conn
        except sqlite3.DatabaseError as exc:
            if "malformed" not in str(exc) and "not a database" not in str(exc):
                raise
            self.counters_path.unlink(missing_ok=True)
            return self._open_counters(timeout_s=timeout_s)

    @property
    def _counters(self) -> sqlite3.Connection:
        conn = getattr(self._local, "counters", None)
        if conn is None:
            conn = self._local.counters = self._open_counters(timeout_s=self.timeout_s)
        return conn

    @property
    def _conn(self) -> sqlite3.Connection:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = self._local.conn = self._connect(timeout_s=self.timeout_s)
        return conn

    # --- publisher side -------------------------------------------------------------------
    def write(self, version: str, scores: pl.DataFrame, *, manifest: Manifest) -> None:
        table = _table(version)
        conn = self._connect(timeout_s=60)
        try:
            conn.execute(
                "INSERT OR REPLACE INTO versions VALUES (?, ?, NULL)",
                (version, manifest.published_at.timestamp()),
            )
            conn.execute(f'CREATE TABLE IF NOT EXISTS "{table}" ({_COLUMNS}) WITHOUT ROWID')
            book, coded = codes.code_reasons(scores)
            manifest = replace(manifest, reason_codes=len(book))
            conn.execute("INSERT OR REPLACE INTO codes VALUES (?, ?)", (version, codes.dumps(book)))
            with tqdm(
                total=scores.height,
                desc="publish",
                unit="rec",
                disable=not self.progress,
                leave=False,
            ) as bar:
                for start in range(0, scores.height, CHUNK_RECORDS):
                    rows = keys.encode_scores(coded.slice(start, CHUNK_RECORDS))
                    conn.execute("BEGIN")
                    conn.executemany(
                        f'INSERT OR REPLACE INTO "{table}" VALUES (?, ?)',
                        rows.select("user_id", "record").iter_rows(),
                    )
                    conn.execute("COMMIT")
                    bar.update(rows.height)
            conn.execute(
                "UPDATE versions SET manifest = ? WHERE version = ?",
                (json.dumps(manifest.encode()), version),
            )
        finally:
            conn.close()

    def flip(self, version: str) -> None:
        conn = self._connect(timeout_s=30)
        try:
            done = conn.execute("SELECT manifest FROM versions WHERE version = ?", (version,))
            row = done.fetchone()
            if row is None or row[0] is None:
                raise ValueError(f"version {version} is not complete: refusing to point at it")
            conn.execute("INSERT OR REPLACE INTO pointer VALUES ('scores', ?)", (version,))
        finally:
            conn.close()

    def versions(self) -> tuple[str | None, list[Manifest]]:
        conn = self._conn
        current = conn.execute("SELECT version FROM pointer WHERE name = 'scores'").fetchone()
        listed = conn.execute(
            "SELECT version, published_at, manifest FROM versions ORDER BY version"
        ).fetchall()
        out = []
        for version, published, manifest in listed:
            if manifest:
                out.append(Manifest.decode(json.loads(manifest)))
            else:
                when = datetime.fromtimestamp(published, UTC)
                out.append(
                    Manifest(
                        version=version,
                        published_at=when,
                        scored_at=when,
                        model_version="",
                        snapshot="",
                        records=-1,
                    )
                )
        return (current[0] if current else None), out

    def drop(self, version: str) -> None:
        conn = self._connect(timeout_s=30)
        try:
            conn.execute(f'DROP TABLE IF EXISTS "{_table(version)}"')
            conn.execute("DELETE FROM versions WHERE version = ?", (version,))
            conn.execute("DELETE FROM codes WHERE version = ?", (version,))
        finally:
            conn.close()

    # --- request side ---------------------------------------------------------------------
    def fetch(self, ask: Ask) -> Facts:
        # Two autocommit statements, no explicit transaction: one reads the pointer, the record
        # under the version this reader last saw and the novelty flags; the counters' UPSERT
        # is atomic on its own. A flip (or a dropped version) since costs one more read.
        conn = self._conn
        now = time.time()
        seen = (ask.user_id, ask.device, ask.user_id, ask.country)
        served = self._served
        cached = served.manifest.version if served else None
        try:
            row = conn.execute(_reads(cached), (ask.user_id, *seen)).fetchone()
        except sqlite3.OperationalError as exc:  # the cached version's table was dropped
            if "no such table" not in str(exc):
                raise
            row = conn.execute(_reads(None), (ask.user_id, *seen)).fetchone()
        current, record, device, country, override = row
        if current is not None and current != cached:
            self._served = served = self._load_manifest(conn, current)
            row = conn.execute(_reads(current), (ask.user_id, *seen)).fetchone()
            current, record, device, country, override = row
        counts = self._count(self._counters, ask, now) if ask.counters else ()
        return Facts(
            manifest=served.manifest if current and served else None,
            record=(
                ScoreRecord.decode(record, served.book if served else None)
                if record is not None
                else None
            ),
            counts=counts,
            new_device=None if ask.device is None else not device,
            new_country=None if ask.country is None else not country,
            override=override,
        )

    def override(self, user_id: str, action: str | None) -> None:
        if action is None:
            self._conn.execute("DELETE FROM overrides WHERE user_id = ?", (user_id,))
            return
        if action not in keys.OVERRIDES:
            raise ValueError(f"not an override: {action!r}")
        self._conn.execute(
            "INSERT OR REPLACE INTO overrides VALUES (?, ?, ?)", (user_id, action, time.time())
        )

    def remember(self, user_id: str, *, device: str | None, country: str | None) -> None:
        rows = [(user_id, k, v) for k, v in (("device", device), ("country", country)) if v]
        self._conn.executemany("INSERT OR IGNORE INTO seen VALUES (?, ?, ?)", rows)

    def close(self) -> None:
        for name in ("conn", "counters"):
            conn = getattr(self._local, name, None)
            if conn is not None:
                conn.close()
                setattr(self._local, name, None)

    @staticmethod
    def _load_manifest(conn: sqlite3.Connection, version: str) -> Served:
        """The version's manifest and reason dictionary (``None``: text reasons)."""
        meta, book = conn.execute(
            "SELECT v.manifest, c.book FROM versions v LEFT JOIN codes c USING (version) "
            "WHERE v.version = ?",
            (version,),
        ).fetchone()
        manifest = Manifest.decode(json.loads(meta))
        if manifest.reason_codes is None:  # published before reason codes: text reasons
            return Served(manifest, None)
        if book is None:
            raise LookupError(f"version {version} has reason codes but no dictionary")
        return Served(manifest, codes.loads(book))

    def _count(self, conn: sqlite3.Connection, ask: Ask, now: float) -> tuple[int, ...]:
        n = len(ask.counters)
        values = [v for c in ask.counters for v in (c.key, now + c.window_s)]
        got = dict(conn.execute(_count_sql(n), values).fetchall())
        self._increments += 1
        if self._increments % SWEEP_EVERY == 0:
            conn.execute("DELETE FROM counters WHERE expires < ?", (now,))
        return tuple(got[c.key] for c in ask.counters)


@lru_cache
def _count_sql(n: int) -> str:
    rows = ", ".join(["(?, 1, ?)"] * n)
    return (
        f"INSERT INTO counters (key, count, expires) VALUES {rows} "
        "ON CONFLICT (key) DO UPDATE SET count = count + 1 RETURNING key, count"
    )


@lru_cache(maxsize=64)
def _reads(version: str | None) -> str:
    """Pointer, the user's record under ``version`` (NULL when none), novelty and the user's
    override, in one."""
    # "?1" is the user id; the plain "?"s after it number on from 2 (SQLite's rule).
    record = (
        f'(SELECT record FROM "{_table(version)}" WHERE user_id = ?1)'
        if version
        else "NULLIF(?1, ?1)"
    )
    return f"SELECT ({_POINTER}), {record}, {_SEEN}, {_OVERRIDE}"

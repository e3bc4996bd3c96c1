"""The embedded online store: one SQLite file, so ``make demo`` and a laptop need no server.

Each score version is its own table (``scores_<version>``): writing it never touches what
readers use, the pointer flip is one UPDATE, and dropping a version is a ``DROP TABLE``.
WAL mode lets readers go on during a publish; decisions use short busy timeouts so a locked
file costs them their latency budget, not a hang.
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

import polars as pl
from tqdm import tqdm

from serving import keys
from serving.keys import Manifest, ScoreRecord
from serving.store.base import Ask, Facts

CHUNK_RECORDS = 100_000
_SCHEMA = """
CREATE TABLE IF NOT EXISTS versions (version TEXT PRIMARY KEY, published_at REAL NOT NULL,
                                     manifest TEXT);
CREATE TABLE IF NOT EXISTS pointer (name TEXT PRIMARY KEY, version TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS counters (key TEXT PRIMARY KEY, count INTEGER NOT NULL,
                                     expires REAL NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS seen (user_id TEXT NOT NULL, kind TEXT NOT NULL, value TEXT NOT NULL,
                                 PRIMARY KEY (user_id, kind, value)) WITHOUT ROWID;
"""
_COUNT = (
    "INSERT INTO counters (key, count, expires) VALUES (?, 1, ?) "
    "ON CONFLICT (key) DO UPDATE SET count = count + 1 RETURNING count"
)
_SEEN = "SELECT EXISTS (SELECT 1 FROM seen WHERE user_id = ? AND kind = ? AND value = ?)"
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
        self._manifest: Manifest | None = None
        self._increments = 0
        with self._connect(timeout_s=30) as conn:
            conn.executescript(_SCHEMA)

    def _connect(self, *, timeout_s: float) -> sqlite3.Connection:
        conn = sqlite3.connect(self.path, timeout=timeout_s, isolation_level=None,
                               check_same_thread=False)  # fmt: skip
        conn.execute("PRAGMA journal_mode = WAL")
        conn.execute("PRAGMA synchronous = NORMAL")  # WAL + NORMAL: durable at checkpoints
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
            conn.execute("INSERT OR REPLACE INTO versions VALUES (?, ?, NULL)",
                         (version, manifest.published_at.timestamp()))  # fmt: skip
            conn.execute(f'CREATE TABLE IF NOT EXISTS "{table}" ({_COLUMNS}) WITHOUT ROWID')
            with tqdm(total=scores.height, desc="publish", unit="rec", disable=not self.progress,
                      leave=False) as bar:  # fmt: skip
                for start in range(0, scores.height, CHUNK_RECORDS):
                    rows = keys.encode_scores(scores.slice(start, CHUNK_RECORDS))
                    conn.execute("BEGIN")
                    conn.executemany(f'INSERT OR REPLACE INTO "{table}" VALUES (?, ?)',
                                     rows.select("user_id", "record").iter_rows())  # fmt: skip
                    conn.execute("COMMIT")
                    bar.update(rows.height)
            conn.execute("UPDATE versions SET manifest = ? WHERE version = ?",
                         (json.dumps(manifest.encode()), version))  # fmt: skip
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
                out.append(Manifest(version=version, published_at=when, scored_at=when,
                                    model_version="", snapshot="", records=-1))  # fmt: skip
        return (current[0] if current else None), out

    def drop(self, version: str) -> None:
        conn = self._connect(timeout_s=30)
        try:
            conn.execute(f'DROP TABLE IF EXISTS "{_table(version)}"')
            conn.execute("DELETE FROM versions WHERE version = ?", (version,))
        finally:
            conn.close()

    # --- request side ---------------------------------------------------------------------
    def fetch(self, ask: Ask) -> Facts:
        conn = self._conn
        now = time.time()
        conn.execute("BEGIN IMMEDIATE" if ask.counters else "BEGIN")
        try:
            record, current = self._record(conn, ask.user_id)
            counts = tuple(
                conn.execute(_COUNT, (c.key, now + c.window_s)).fetchone()[0] for c in ask.counters
            )
            new_device = self._new(conn, ask.user_id, "device", ask.device)
            new_country = self._new(conn, ask.user_id, "country", ask.country)
            conn.execute("COMMIT")
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise
        if ask.counters:
            self._increments += 1
            if self._increments % SWEEP_EVERY == 0:
                conn.execute("DELETE FROM counters WHERE expires < ?", (now,))
        return Facts(
            manifest=self._manifest if current else None,
            record=ScoreRecord.decode(record) if record is not None else None,
            counts=counts,
            new_device=new_device,
            new_country=new_country,
        )

    def remember(self, user_id: str, *, device: str | None, country: str | None) -> None:
        rows = [(user_id, k, v) for k, v in (("device", device), ("country", country)) if v]
        self._conn.executemany("INSERT OR IGNORE INTO seen VALUES (?, ?, ?)", rows)

    def close(self) -> None:
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            conn.close()
            self._local.conn = None

    def _record(self, conn: sqlite3.Connection, user_id: str) -> tuple[str | None, str | None]:
        row = conn.execute("SELECT version FROM pointer WHERE name = 'scores'").fetchone()
        if row is None:
            return None, None
        current = row[0]
        if self._manifest is None or self._manifest.version != current:
            meta = conn.execute("SELECT manifest FROM versions WHERE version = ?", (current,))
            self._manifest = Manifest.decode(json.loads(meta.fetchone()[0]))
        found = conn.execute(f'SELECT record FROM "{_table(current)}" WHERE user_id = ?',
                             (user_id,)).fetchone()  # fmt: skip
        return (found[0] if found else None), current

    @staticmethod
    def _new(conn: sqlite3.Connection, user_id: str, kind: str, value: str | None) -> bool | None:
        if value is None:
            return None
        return not conn.execute(_SEEN, (user_id, kind, value)).fetchone()[0]

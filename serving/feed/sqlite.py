"""Feed timelines and versions in one SQLite file: the embedded default, same records as Redis.

WAL mode so a feed read never waits for a publish; a version's rows are written in one
transaction after its row in ``feed_version`` is committed (so a write that dies half-way is
still listed and dropped later) and its manifest is set last, as in Redis.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from pathlib import Path

import orjson
import polars as pl

from serving.feed.base import FeedManifest, Signals, Window, read_record, viewer_records
from serving.feed.guard import new_breaker
from serving.keys import TIMELINE_CAP

_SCHEMA = """
CREATE TABLE IF NOT EXISTS feed_timeline (
    viewer TEXT NOT NULL, post TEXT NOT NULL, author TEXT NOT NULL, ts INTEGER NOT NULL,
    PRIMARY KEY (viewer, post)) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS feed_timeline_by_time ON feed_timeline (viewer, ts DESC, post DESC);
CREATE TABLE IF NOT EXISTS feed_version (
    version TEXT PRIMARY KEY, published_at REAL NOT NULL, meta TEXT);
CREATE TABLE IF NOT EXISTS feed_current (
    one INTEGER PRIMARY KEY CHECK (one = 1), version TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS feed_record (
    version TEXT NOT NULL, viewer TEXT NOT NULL, record BLOB NOT NULL,
    PRIMARY KEY (version, viewer)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS feed_author (
    version TEXT NOT NULL, author TEXT NOT NULL, policy TEXT NOT NULL,
    PRIMARY KEY (version, author, policy)) WITHOUT ROWID;
"""
_TABLES = ("feed_record", "feed_author", "feed_version")
_FAR = 1 << 62  # beyond any epoch-µs timestamp: stands for an open bound


class SqliteFeed:
    """Both feed protocols over one SQLite file."""

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.con = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        self.con.execute("PRAGMA journal_mode = WAL")
        self.con.execute("PRAGMA synchronous = NORMAL")
        self.con.execute("PRAGMA busy_timeout = 5000")
        self.con.executescript(_SCHEMA)
        self.breaker = new_breaker()  # the request side's (``serving.feed.guard``)

    def close(self) -> None:
        self.con.close()

    # -- Timelines ------------------------------------------------------------------------
    def push(self, entries: pl.DataFrame, *, cap: int = TIMELINE_CAP) -> int:
        rows = entries.select(
            "viewer_id", "post_id", "author_id", pl.col("created_at").dt.epoch("us")
        ).rows()
        viewers = [(v,) for v in dict.fromkeys(r[0] for r in rows)]
        with self.con:  # one transaction: BEGIN ... COMMIT
            self.con.execute("BEGIN")
            self.con.executemany("INSERT OR REPLACE INTO feed_timeline VALUES (?, ?, ?, ?)", rows)
            self.con.executemany(
                "DELETE FROM feed_timeline WHERE viewer = ?1 AND post IN (SELECT post FROM "
                "feed_timeline WHERE viewer = ?1 ORDER BY ts DESC, post DESC LIMIT -1 OFFSET ?2)",
                [(v, cap) for (v,) in viewers],
            )
        return len(rows)

    def window(
        self, viewer_id: str, *, newest: int | None, oldest: int | None, limit: int
    ) -> Window:
        current = self.con.execute("SELECT version FROM feed_current").fetchone()
        rows = self.con.execute(
            "SELECT post, author, ts FROM feed_timeline WHERE viewer = ? AND ts <= ? AND ts >= ? "
            "ORDER BY ts DESC, post DESC LIMIT ?",
            (
                viewer_id,
                _FAR if newest is None else newest,
                -_FAR if oldest is None else oldest,
                limit,
            ),
        ).fetchall()
        posts, authors, stamps = (
            (list(c) for c in zip(*rows, strict=True)) if rows else ([], [], [])
        )
        return Window(current[0] if current else None, posts, authors, stamps)

    def signals(
        self, version: str, viewer_id: str, *, posts: Sequence[str], authors: Sequence[str]
    ) -> Signals | None:
        meta = self.con.execute(
            "SELECT meta FROM feed_version WHERE version = ?", (version,)
        ).fetchone()
        if not meta or meta[0] is None:
            return None
        raw = self.con.execute(
            "SELECT record FROM feed_record WHERE version = ? AND viewer = ?", (version, viewer_id)
        ).fetchone()
        known, fresh, stale = read_record(raw[0] if raw else None)
        policy = self.con.execute(
            "SELECT author, policy FROM feed_author WHERE version = ? "
            "AND author IN (SELECT value FROM json_each(?))",
            (version, orjson.dumps(list(authors)).decode()),
        ).fetchall()
        return Signals(
            manifest=FeedManifest.decode(orjson.loads(meta[0])),
            scores=[known.get(p) for p in posts],
            fresh=fresh,
            stale=stale,
            flagged=frozenset(a for a, p in policy if p == "flagged"),
            low_trust=frozenset(a for a, p in policy if p == "low_trust"),
        )

    # -- FeedVersions ---------------------------------------------------------------------
    def write(
        self,
        version: str,
        *,
        scores: pl.DataFrame,
        priors: pl.DataFrame,
        authors: pl.DataFrame,
        manifest: FeedManifest,
    ) -> None:
        self.con.execute(
            "INSERT OR REPLACE INTO feed_version VALUES (?, ?, NULL)",
            (version, manifest.published_at.timestamp()),
        )
        records = ((version, v, r) for v, r in viewer_records(scores, priors))
        marks = authors.select(pl.lit(version), "author_id", "policy").unique()
        with self.con:
            self.con.execute("BEGIN")
            self.con.executemany("INSERT OR REPLACE INTO feed_record VALUES (?, ?, ?)", records)
            self.con.executemany(
                "INSERT OR REPLACE INTO feed_author VALUES (?, ?, ?)", marks.iter_rows()
            )
            self.con.execute(
                "UPDATE feed_version SET meta = ? WHERE version = ?",
                (orjson.dumps(manifest.encode()).decode(), version),
            )

    def flip(self, version: str) -> None:
        self.con.execute("INSERT OR REPLACE INTO feed_current VALUES (1, ?)", (version,))

    def versions(self) -> tuple[str | None, list[FeedManifest | str]]:
        current = self.con.execute("SELECT version FROM feed_current").fetchone()
        rows = self.con.execute(
            "SELECT version, meta FROM feed_version ORDER BY published_at, version"
        ).fetchall()
        found: list[FeedManifest | str] = [
            FeedManifest.decode(orjson.loads(meta)) if meta else version for version, meta in rows
        ]
        return (current[0] if current else None), found

    def drop(self, version: str) -> None:
        with self.con:
            self.con.execute("BEGIN")
            for table in _TABLES:
                self.con.execute(f"DELETE FROM {table} WHERE version = ?", (version,))

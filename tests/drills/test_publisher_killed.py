"""Drill: the score publisher is SIGKILLed half-way through writing a version.

Promises held, on Redis (a server of its own) and on the SQLite file: readers see the old set,
never a mix (every answer read while it happens carries the old version and the old values);
the dead publish is listed as incomplete and can never be flipped to; the next publish serves
its own set whole; the prune removes the incomplete version without a trace once its grace has
passed (``serving.publish.prune``: a version a slow publisher is still writing must not be
dropped under it, so abandonment is presumed only after ``GRACE``).
"""

from __future__ import annotations

import random
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Protocol

import pytest
import redis

from serving import keys
from serving.publish import GRACE, prune, publish
from serving.store import RedisStore, SQLiteStore
from serving.store.base import Ask
from tests.drills.publisher import scores, user_id
from tests.drills.servers import RedisServer, wait_until

pytestmark = [pytest.mark.integration, pytest.mark.drill, pytest.mark.timeout(120)]
ROOT = Path(__file__).resolve().parents[2]
OLD, DEAD, NEXT = 0.25, 0.75, 0.5  # the trust of every user in each set


class Inspect(Protocol):
    """Looks at the store from outside the publisher."""

    def listed(self) -> list[str]: ...
    def partly(self, version: str) -> tuple[int, int]: ...  # (records stored, of how many)
    def a_third(self, version: str) -> bool: ...
    def leftovers(self, version: str) -> list[str]: ...


class RedisInspect:
    def __init__(self, url: str) -> None:
        self.raw = redis.Redis.from_url(url, socket_timeout=5)

    def listed(self) -> list[str]:
        return [v.decode() for v in self.raw.zrange(keys.VERSIONS, 0, -1)]

    def partly(self, version: str) -> tuple[int, int]:
        """Pages stored, of how many (pages are written in page order)."""
        pages = int(self.raw.hget(keys.meta_key(version), "pages") or 0)
        if self.raw.hexists(keys.meta_key(version), "records"):
            return pages, pages
        pipe = self.raw.pipeline(transaction=False)
        for p in range(pages):
            pipe.exists(keys.page_key(version, p))
        return sum(pipe.execute()), pages

    def a_third(self, version: str) -> bool:
        """Whether the page a third of the way is stored (cheap enough to poll)."""
        pages = int(self.raw.hget(keys.meta_key(version), "pages") or 0)
        return bool(pages and self.raw.exists(keys.page_key(version, pages // 3)))

    def leftovers(self, version: str) -> list[str]:
        found = [k.decode() for k in self.raw.scan_iter(match=f"{keys.PREFIX}:scores:{version}*")]
        return found + ([version] if self.raw.zscore(keys.VERSIONS, version) is not None else [])


class SqliteInspect:
    def __init__(self, path: Path, users: int) -> None:
        self.path, self.users = path, users

    def _con(self) -> sqlite3.Connection:
        return sqlite3.connect(self.path, timeout=5)

    def listed(self) -> list[str]:
        with self._con() as con:
            return [r[0] for r in con.execute("SELECT version FROM versions ORDER BY version")]

    def partly(self, version: str) -> tuple[int, int]:
        with self._con() as con:
            (manifest,) = con.execute(
                "SELECT manifest FROM versions WHERE version = ?", (version,)
            ).fetchone()
            (n,) = con.execute(f'SELECT count(*) FROM "scores_{version}"').fetchone()
        return (n, n) if manifest else (n, self.users)

    def a_third(self, version: str) -> bool:
        """Whether a third of the rows are committed (the writer commits a chunk at a time)."""
        try:
            with self._con() as con:
                (n,) = con.execute(f'SELECT count(*) FROM "scores_{version}"').fetchone()
        except sqlite3.OperationalError:  # no table yet
            return False
        return n >= self.users // 3

    def leftovers(self, version: str) -> list[str]:
        with self._con() as con:
            tables = con.execute(
                "SELECT name FROM sqlite_master WHERE name = ?", (f"scores_{version}",)
            ).fetchall()
            rows = con.execute("SELECT version FROM versions WHERE version = ?", (version,))
            return [t[0] for t in tables] + [r[0] for r in rows.fetchall()]


class Readers(threading.Thread):
    """Reads random users through the decision path's store until stopped; keeps what was odd."""

    def __init__(self, store: RedisStore | SQLiteStore, *, users: int, version: str) -> None:
        super().__init__(name="drill-reader", daemon=True)
        self.store, self.users, self.version = store, users, version
        self.reads, self.wrong = 0, []
        self.stopping = threading.Event()

    def run(self) -> None:
        rng = random.Random(3)
        while not self.stopping.is_set():
            who = user_id(rng.randrange(self.users))
            try:
                facts = self.store.fetch(Ask(user_id=who))
            except Exception as exc:  # a reader error is not a mix, but still worth seeing
                self.wrong.append(f"{who}: {exc!r}")
                continue
            got = (facts.manifest.version if facts.manifest else None, facts.record)
            if got[0] != self.version or got[1] is None or got[1].trust != OLD:
                self.wrong.append(f"{who}: {got}")
            self.reads += 1

    def stop(self) -> None:
        self.stopping.set()
        self.join(timeout=10)


@dataclass
class Setup:
    store: RedisStore | SQLiteStore  # the test's publisher
    reader: RedisStore | SQLiteStore  # what the decision path reads through
    target: list[str]  # the publisher process's store arguments
    users: int  # ~0.5-1 s of publishing: the window to kill in
    look: Inspect


@pytest.fixture(params=["redis", "sqlite"])
def setup(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Setup]:
    if request.param == "redis":
        server = RedisServer(tmp_path / "redis", durable=False)  # the publish is what dies
        request.addfinalizer(server.close)
        server.start()
        url = server.url()
        stores = RedisStore(url, timeout_s=5), RedisStore(url, timeout_s=5)
        made = Setup(*stores, ["--redis", url], 1_000_000, RedisInspect(url))
    else:
        path = tmp_path / "online.sqlite"
        stores = SQLiteStore(path, timeout_s=5), SQLiteStore(path, timeout_s=5)
        made = Setup(*stores, ["--sqlite", str(path)], 600_000, SqliteInspect(path, 600_000))
    try:
        yield made
    finally:
        made.store.close()
        made.reader.close()


def test_publisher_killed_half_way_leaves_readers_on_the_old_set(setup: Setup) -> None:
    store, reader, users, look = setup.store, setup.reader, setup.users, setup.look
    old = publish(store, scores(users, trust=OLD), snapshot="old").version
    readers = Readers(reader, users=users, version=old)
    readers.start()
    argv = [*setup.target, "--users", str(users), "--trust", str(DEAD)]
    proc = subprocess.Popen([sys.executable, "-m", "tests.drills.publisher", *argv], cwd=ROOT)
    try:
        wait_until(lambda: len(look.listed()) > 1, timeout_s=60, what="the publisher's version")
        dead = next(v for v in look.listed() if v != old)
        wait_until(lambda: look.a_third(dead), timeout_s=30, what="a third of the records")
        proc.kill()
        killed_at = datetime.now(UTC)
        proc.wait(timeout=10)
        time.sleep(0.3)  # readers go on after the death too
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=10)
        readers.stop()

    stored, total = look.partly(dead)
    print(f"\npublisher killed with {stored} of {total} stored; {readers.reads} reads meanwhile")
    assert 0 < stored < total, "not killed half-way: the drill proves nothing"
    assert readers.reads > 100 and readers.wrong == []
    current, manifests = store.versions()
    assert current == old
    assert [(m.version, m.records) for m in manifests] == [(old, users), (dead, -1)]
    with pytest.raises(ValueError, match="not complete"):
        store.flip(dead)  # no one can ever point readers at it

    nxt = publish(store, scores(users, trust=NEXT), snapshot="next")
    assert nxt.dropped == ()  # within the grace: the dead one may still be someone's slow write
    for i in random.Random(5).sample(range(users), 200):
        facts = reader.fetch(Ask(user_id=user_id(i)))
        assert facts.manifest is not None and facts.manifest.version == nxt.version
        assert facts.record is not None and facts.record.trust == NEXT

    later = max(killed_at, datetime.now(UTC)) + GRACE + timedelta(seconds=1)
    assert set(prune(store, now=later)) == {old, dead}
    assert look.leftovers(dead) == [] and look.leftovers(old) == []
    assert store.versions()[0] == nxt.version

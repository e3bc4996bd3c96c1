"""``serving.feed.guard``: a failing feed backend answers ``None``/``False``, never raises.

The backend here really fails (its SQLite connection is closed under it); the Redis outage
itself is drilled on a server of its own in ``tests/drills/test_redis_outage.py``.
"""

from __future__ import annotations

import sqlite3
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest

from serving.breaker import CircuitBreaker
from serving.feed import SqliteFeed
from serving.feed.guard import BREAKER_FAILURES, guarded_fan_out, guarded_read


def _fan_out(feed: SqliteFeed, post_id: str) -> bool:
    return guarded_fan_out(
        feed, post_id=post_id, author_id="a", created_at=datetime.now(UTC), followers=["v"]
    )


def test_a_dead_backend_falls_back_opens_the_circuit_and_recovers(tmp_path: Path) -> None:
    feed = SqliteFeed(tmp_path / "feed.sqlite3")
    assert _fan_out(feed, "p1")
    page = guarded_read(feed, "v", cursor=None, page=10)
    assert page is not None and [i.post_id for i in page.items] == ["p1"]

    feed.con.close()  # the store dies under the app
    for _ in range(BREAKER_FAILURES):
        assert guarded_read(feed, "v", cursor=None, page=10) is None
    assert feed.breaker.state == "open"
    assert not _fan_out(feed, "p2")  # skipped at once, nothing raised
    with pytest.raises(ValueError):  # a forged cursor stays the caller's error
        guarded_read(feed, "v", cursor="forged", page=10)

    feed.breaker = CircuitBreaker(failures=BREAKER_FAILURES, open_s=0.05)
    for _ in range(BREAKER_FAILURES):
        assert guarded_read(feed, "v", cursor=None, page=10) is None
    time.sleep(0.06)  # half-open: the next read is the one trial
    with pytest.raises(ValueError):  # refused before the trial is taken: it is not used up
        guarded_read(feed, "v", cursor="forged", page=10)
    feed.con = sqlite3.connect(feed.path, isolation_level=None, check_same_thread=False)
    page = guarded_read(feed, "v", cursor=None, page=10)  # the store is back
    assert page is not None and feed.breaker.state == "closed"
    feed.close()

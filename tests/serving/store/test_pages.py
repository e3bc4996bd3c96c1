"""Bulk page writing: the SET commands of a version's pages, and the sender that checks every
reply at once and raises an error reply."""

from __future__ import annotations

import queue

import numpy as np
import polars as pl
import pytest
import redis

from bench.serving.scores import synthetic_scores
from serving import keys
from serving.store import resp
from serving.store.pages import Pages, Sender, page_aligned
from tests.conftest import require_server
from tests.serving.store.conftest import REDIS_TEST_URL, _redis_up

pytestmark = pytest.mark.integration


def _send(blobs: list[tuple[bytes, int]]) -> Sender:
    up, why = _redis_up()
    require_server("Redis", up, why)
    client = redis.Redis.from_url(REDIS_TEST_URL)
    box: queue.Queue[tuple[bytes, int] | None] = queue.Queue()
    for blob in [*blobs, None]:
        box.put(blob)
    sender = Sender(client, box)
    sender.start()
    sender.join()
    client.close()
    return sender


def test_sender_checks_every_ok_in_one_block() -> None:
    many = b"".join(resp.pack("SET", f"test-pages:{i}", "x" * i) for i in range(2000))
    sender = _send([(many, 2000), (resp.pack("SET", "test-pages:last", "y"), 1)])
    assert sender.error is None
    with redis.Redis.from_url(REDIS_TEST_URL) as client:
        assert client.get("test-pages:1999") == b"x" * 1999
        client.flushdb()


def test_sender_raises_the_error_reply() -> None:
    bad = resp.pack("SET", "test-pages:a", "1") + resp.pack("INCR", "test-pages:a", "extra")
    sender = _send([(bad, 2)])
    assert isinstance(sender.error, redis.ResponseError)
    assert "wrong number of arguments" in str(sender.error)


def test_commands_are_one_set_per_page_in_page_order() -> None:
    """The vectorised headers make the bytes a loop of ``resp.pack`` over the pages makes,
    on one node and split over three."""
    scores = synthetic_scores(3000, seed=2)
    pages = Pages(scores, pages=keys.pages_for(scores.height))
    by_page: dict[int, list[bytes]] = {}
    for user, line in zip(scores["user_id"], _lines(scores), strict=True):
        by_page.setdefault(keys.page(user, keys.pages_for(scores.height)), []).append(line)
    node_of = np.arange(keys.SLOT_GROUPS) % 3
    for lo, hi in page_aligned(pages.pages, 1000):
        numbers = sorted(set(pages.pages[lo:hi].tolist()))
        one = pages.commands("v1", lo=lo, hi=hi)
        assert one == {0: _sets(numbers, by_page)}
        three = pages.commands("v1", lo=lo, hi=hi, node_of=node_of)
        assert three == {
            n: _sets([p for p in numbers if node_of[p % keys.SLOT_GROUPS] == n], by_page)
            for n in range(3)
        }


def _lines(scores: pl.DataFrame) -> list[bytes]:
    line = pl.concat_str(pl.lit("\n"), "user_id", pl.lit("|"), keys.record_expr(scores))
    return [s.encode() for s in scores.select(line).to_series()]


def _sets(numbers: list[int], by_page: dict[int, list[bytes]]) -> tuple[bytes, int]:
    packed = [resp.pack("SET", keys.page_key("v1", p), b"".join(by_page[p])) for p in numbers]
    return b"".join(packed), len(numbers)

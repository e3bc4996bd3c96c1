"""The bulk page sender: every reply checked at once, an error reply raised."""

from __future__ import annotations

import queue

import pytest
import redis

from serving.store import resp
from serving.store.pages import Sender
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

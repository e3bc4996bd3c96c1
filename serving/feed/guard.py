"""The request side of the feed when its store fails: a circuit breaker, never an exception.

The feed store (Redis in production) holds timelines, a cache of what the core database already
knows (who follows whom, which posts exist). So when it errs, times out (``REQUEST_TIMEOUT_S``
on Redis) or its breaker is open, ``guarded_read`` answers ``None`` and the caller serves its
own fallback (the core API: the newest visible posts of the users the viewer follows, marked
``degraded``), and ``guarded_fan_out`` answers ``False``. After ``BREAKER_FAILURES`` failures
in a row the breaker opens for ``BREAKER_OPEN_S`` seconds: requests go to the fallback at once
instead of waiting on a dead server, then one trial read tells whether the store is back. The
numbers are those of the decision path (``serving/policy/rules.toml``, ``[store]``).

A fan-out that fails or is skipped is not retried here: the post is committed and every
fallback read shows it, but ranked timelines get it only when the timelines are refilled from
the lake (the ``feed_timelines`` asset replays the last days' posts, idempotently).

A forged cursor is the caller's error, not the store's: it raises ``ValueError`` before the
store is asked, whatever the breaker's state.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime
from typing import Protocol

from serving.breaker import CircuitBreaker
from serving.feed.base import Timelines
from serving.feed.timelines import Page, check_cursor, fan_out, read_feed

BREAKER_FAILURES = 5
BREAKER_OPEN_S = 5.0
REQUEST_TIMEOUT_S = 1.0  # a Redis read or fan-out that takes longer counts as a failure
log = logging.getLogger(__name__)


class Guarded(Timelines, Protocol):
    breaker: CircuitBreaker  # one per backend instance, i.e. per app


def new_breaker() -> CircuitBreaker:
    return CircuitBreaker(failures=BREAKER_FAILURES, open_s=BREAKER_OPEN_S)


def guarded_read(feed: Guarded, viewer_id: str, *, cursor: str | None, page: int) -> Page | None:
    """``read_feed``, or ``None`` when the store failed or its circuit is open."""
    if cursor is not None:
        check_cursor(cursor)
    if not feed.breaker.allow():
        return None
    try:
        found = read_feed(feed, viewer_id, cursor=cursor, page=page)
    except Exception:  # whatever the store raised: the caller falls back, never a 500
        feed.breaker.failed()
        log.warning("feed read failed; serving the fallback", exc_info=True)
        return None
    feed.breaker.succeeded()
    return found


def guarded_fan_out(
    feed: Guarded, *, post_id: str, author_id: str, created_at: datetime, followers: Sequence[str]
) -> bool:
    """``fan_out``; ``False`` when the store failed or its circuit is open (nothing raised)."""
    if not feed.breaker.allow():
        log.warning("feed store circuit open: post %s not fanned out", post_id)
        return False
    try:
        fan_out(
            feed, post_id=post_id, author_id=author_id, created_at=created_at, followers=followers
        )
    except Exception:
        feed.breaker.failed()
        log.warning("feed fan-out failed for post %s", post_id, exc_info=True)
        return False
    feed.breaker.succeeded()
    return True

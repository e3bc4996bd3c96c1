"""A feed read: the viewer's newest timeline entries, ranked by the published ranker scores under
the trust policy, one page at a time behind an opaque cursor. Two round trips.

1. ``window``: the current version and up to ``FEED_WINDOW`` entries, newest first.
2. ``signals``: that version's raw ranker scores of those posts (computed by the batch pipeline
   from point-in-time features as of the version's ``as_of``) and which authors are flagged or
   low-trust.

Posts the version did not score get a prior instead. A post created after ``as_of`` gets the
viewer's *fresh* prior: the median score of the viewer's candidates from the last day before
``as_of``, i.e. what a typical new post of the people they follow is worth to them, so new posts
mix in with the day's posts instead of all sinking or all floating. An older unscored post (the
version ranked only the last few days) gets the *stale* prior, the viewer's lowest score. A
viewer with no published scores gets a chronological feed.

Then the policy ``models.feed.FeedRanker`` applies offline, with the parameters the version was
published with: flagged authors' posts are removed (or demoted), low-trust authors' posts are
shifted by ``demotion`` = log(low_trust_factor) / sigmoid_scale, which multiplies their odds of
ranking above any other post by ``low_trust_factor``. Order: score, newer, post id descending.

The cursor pins what page 1 saw: the version (kept readable for a grace period after a newer one
flips), the window's time bounds (posts arriving later are newer than its upper bound, so they
wait for a fresh read instead of shifting the pages) and the last item's sort key (keyset, so a
post trimmed from the timeline meanwhile skips nothing). If the version is gone by then, the
current one takes over and the order may shift at that seam. When a full window is exhausted the
cursor moves to the next older window.
"""

from __future__ import annotations

import base64
import binascii
import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import numpy as np
import orjson
import polars as pl
from numpy.typing import NDArray

from serving.feed.base import ENTRY_SCHEMA, Signals, Timelines, Window
from serving.keys import FEED_PAGE, FEED_WINDOW, TIMELINE_CAP, epoch_us

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_CURSOR_VERSION = 1


@dataclass(frozen=True, slots=True)
class Item:
    post_id: str
    author_id: str
    created_at: datetime
    score: float  # after the policy; comparable within one page read only
    scored: bool  # False: a prior stood in for the ranker
    demoted: bool


@dataclass(frozen=True, slots=True)
class Page:
    items: list[Item]
    cursor: str | None  # None: nothing older
    version: str | None  # the feed version that ranked it (None: chronological)


@dataclass(frozen=True, slots=True)
class _Cursor:
    version: str | None
    newest: int | None
    oldest: int | None
    last: tuple[float, int, str] | None  # (score, created µs, post_id) of the last item served


def _encode(cursor: _Cursor) -> str:
    last = list(cursor.last) if cursor.last else None
    raw = orjson.dumps([_CURSOR_VERSION, cursor.version, cursor.newest, cursor.oldest, last])
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode(text: str) -> _Cursor:
    try:
        raw = orjson.loads(base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)))
        tag, version, newest, oldest, last = raw
        if tag != _CURSOR_VERSION:
            raise ValueError(f"cursor format {tag}")
        key = (float(last[0]), int(last[1]), str(last[2])) if last else None
        return _Cursor(version, newest, oldest, key)
    except (binascii.Error, orjson.JSONDecodeError, TypeError, ValueError, IndexError) as exc:
        raise ValueError(f"not a feed cursor: {text!r}") from exc


def check_cursor(text: str) -> None:
    """Raise ``ValueError`` unless ``text`` is a cursor this module made."""
    _decode(text)


def _signals(
    store: Timelines, viewer_id: str, window: Window, wanted: str | None
) -> Signals | None:
    """The pinned version's signals, else the current one's (the pinned one was dropped)."""
    authors = list(dict.fromkeys(window.authors))
    for version in dict.fromkeys(v for v in (wanted, window.current) if v):
        found = store.signals(version, viewer_id, posts=window.posts, authors=authors)
        if found is not None:
            return found
    return None


@dataclass(frozen=True, slots=True)
class Ranked:
    """The entries the policy keeps, best first: window indices, final scores, demotions."""

    order: NDArray[np.int64]
    scores: NDArray[np.float64]
    demoted: NDArray[np.bool_]


def rank(window: Window, signals: Signals | None) -> Ranked:
    """Score every entry (published score, else a prior; plus the policy's shift) and order them:
    score, then newer, then the window's own order (post id descending) by a stable sort."""
    n = len(window.posts)
    ts = np.array(window.ts, dtype=np.int64)
    demoted = np.zeros(n, dtype=bool)
    if signals is None:
        score = np.zeros(n)
        keep = np.ones(n, dtype=bool)
    else:
        score = np.array(signals.scores, dtype=np.float64)  # None -> nan
        fresh = signals.fresh if signals.fresh is not None else (signals.stale or 0.0)
        stale = signals.stale if signals.stale is not None else fresh
        missing = np.isnan(score)
        after = ts >= epoch_us(signals.manifest.as_of)
        score[missing] = np.where(after[missing], fresh, stale)
        keep = np.ones(n, dtype=bool)
        if signals.flagged or signals.low_trust:
            fl, lo = signals.flagged, signals.low_trust
            mark = np.fromiter((2 if a in fl else a in lo for a in window.authors), np.int8, n)
            demoted = mark == 1
            if signals.manifest.flagged_policy == "remove":
                keep = mark != 2
            else:
                demoted |= mark == 2
        score[demoted] += signals.manifest.demotion
        keep &= score > -math.inf  # a factor of 0 demotes out of the feed
    order = np.lexsort((-ts, -score))  # the last key sorts first; stable, so ties keep order
    order = order[keep[order]]
    return Ranked(order, score[order], demoted[order])


def _after(ranked: Ranked, window: Window, last: tuple[float, int, str]) -> int:
    """How many ranked entries come at or before the cursor's last item (all of them precede
    the rest: the order is total)."""
    score, ts = ranked.scores, np.array(window.ts, dtype=np.int64)[ranked.order]
    ahead = (score > last[0]) | ((score == last[0]) & (ts > last[1]))
    same = np.flatnonzero((score == last[0]) & (ts == last[1]))
    ties = sum(1 for i in same if window.posts[ranked.order[i]] >= last[2])
    return int(ahead.sum()) + ties


def read_feed(
    store: Timelines,
    viewer_id: str,
    *,
    cursor: str | None = None,
    page: int = FEED_PAGE,
    window: int = FEED_WINDOW,
) -> Page:
    """One page of ``viewer_id``'s ranked feed; pass the returned cursor for the next one.
    Raises ``ValueError`` on a cursor this module did not make."""
    state = _decode(cursor) if cursor else _Cursor(None, None, None, None)
    found = store.window(viewer_id, newest=state.newest, oldest=state.oldest, limit=window)
    if not found.posts:
        return Page([], None, state.version or found.current)
    full = len(found.posts) >= window
    newest = state.newest if state.newest is not None else found.ts[0]
    oldest = state.oldest if state.oldest is not None else (found.ts[-1] if full else None)
    signals = _signals(store, viewer_id, found, state.version or found.current)
    ranked = rank(found, signals)
    skip = 0 if state.last is None else _after(ranked, found, state.last)
    chosen = range(skip, min(skip + page, len(ranked.order)))
    items = []
    for r in chosen:
        i = int(ranked.order[r])
        items.append(
            Item(
                post_id=found.posts[i],
                author_id=found.authors[i],
                created_at=_EPOCH + timedelta(microseconds=found.ts[i]),
                score=float(ranked.scores[r]),
                scored=signals is not None and signals.scores[i] is not None,
                demoted=bool(ranked.demoted[r]),
            )
        )
    version = signals.manifest.version if signals else None
    if chosen.stop < len(ranked.order):
        last = items[-1]
        key = (last.score, epoch_us(last.created_at), last.post_id)
        following = _Cursor(version, newest, oldest, key)
    elif full:  # this window is done; older entries may follow it
        following = _Cursor(version, found.ts[-1] - 1, None, None)
    else:
        return Page(items, None, version)
    return Page(items, _encode(following), version)


def fan_out(
    store: Timelines,
    *,
    post_id: str,
    author_id: str,
    created_at: datetime,
    followers: Sequence[str],
    cap: int = TIMELINE_CAP,
) -> int:
    """Fan-out on write: push one new post to each follower's timeline (the write path of the
    core API). Returns the number of timelines it went to."""
    entries = pl.DataFrame(
        {
            "viewer_id": list(followers),
            "post_id": post_id,
            "author_id": author_id,
            "created_at": created_at.astimezone(UTC),
        },
        schema=ENTRY_SCHEMA,
    )
    return store.push(entries, cap=cap) if entries.height else 0


def replay(
    store: Timelines, entries: pl.DataFrame, *, cap: int = TIMELINE_CAP, chunk: int = 200_000
) -> int:
    """Fan-out on write, replayed from history: push ``entries`` (``ENTRY_SCHEMA``) oldest first,
    as the write path would have, in chunks so memory stays bounded. Returns the entries pushed."""
    ordered = entries.sort("created_at", "post_id")
    for start in range(0, ordered.height, chunk):
        store.push(ordered.slice(start, chunk), cap=cap)
    return ordered.height

"""``GET /social/feed`` while the feed store is down: the newest visible posts of followed users.

The ranked feed (``serving.feed``) reads timelines from the feed store (Redis in production).
When that store errs, times out or its circuit breaker is open (``serving.feed.guard``), the
endpoint answers from the core database instead, and says so. What a degraded page is:

- the viewer's own posts and those of the users they follow, that the viewer may see now (the
  ``visible_to`` rule every read path shares), newest first (created_at, then id);
- without the posts of suspended, banned or closed authors (the core database knows them);
- marked: ``degraded: true`` and ``version: null`` on the page, ``ranked: false`` and
  ``score: 0`` on every item.

What it is not: ranked, nor filtered by the ranker's trust policy (flagged authors removed,
low-trust ones demoted), since both live in the store that is down. Posts whose fan-out failed
during the outage are there (they come from the database), though the ranked feed will show them
only once the timelines are refilled.

Paging is keyset on (created_at, id) with a cursor of its own (``d1.`` + base64 JSON, never a
valid ranked cursor). A degraded cursor keeps paging the fallback even once the store is back,
so a client's pages stay consistent; a fresh read (no cursor) returns to the ranked feed. A
ranked cursor sent while the store is down cannot be continued (the ranked order is in the
store): the fallback starts again from the newest post.
"""

from __future__ import annotations

import base64
import binascii
from datetime import datetime

import orjson
from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from core_api.db.identity import User
from core_api.db.social import Follow, Post
from core_api.deps import LOCKED
from core_api.schemas.social import FeedItemOut, FeedOut, PostOut
from core_api.services.visibility import visible_to

PREFIX = "d1."


def is_fallback_cursor(cursor: str) -> bool:
    return cursor.startswith(PREFIX)


def _encode(post: Post) -> str:
    raw = orjson.dumps([post.created_at.isoformat(), post.id])
    return PREFIX + base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode(cursor: str) -> tuple[datetime, str]:
    text = cursor.removeprefix(PREFIX)
    try:
        created, post_id = orjson.loads(base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)))
        at = datetime.fromisoformat(created)
        if at.tzinfo is None or not isinstance(post_id, str):
            raise ValueError("naive time or bad id")
    except (binascii.Error, orjson.JSONDecodeError, TypeError, ValueError) as exc:
        raise ValueError(f"not a feed cursor: {cursor!r}") from exc
    return at, post_id


def fallback_page(db: Session, viewer_id: str, *, cursor: str | None, limit: int) -> FeedOut:
    """One degraded page; raises ``ValueError`` on a fallback cursor this module did not make."""
    followed = select(Follow.followee_id).where(Follow.follower_id == viewer_id)
    query = (
        select(Post)
        .join(User, User.id == Post.author_id)
        .where(
            or_(Post.author_id == viewer_id, Post.author_id.in_(followed)),
            visible_to(viewer_id),
            User.status.not_in(LOCKED),
        )
    )
    if cursor is not None and is_fallback_cursor(cursor):
        at, post_id = _decode(cursor)
        query = query.where(
            or_(Post.created_at < at, and_(Post.created_at == at, Post.id < post_id))
        )
    posts = db.scalars(query.order_by(Post.created_at.desc(), Post.id.desc()).limit(limit + 1))
    found = list(posts)
    more = len(found) > limit
    items = [
        FeedItemOut(post=PostOut.model_validate(p), score=0.0, ranked=False) for p in found[:limit]
    ]
    following = _encode(found[limit - 1]) if more else None
    return FeedOut(items=items, cursor=following, version=None, degraded=True)

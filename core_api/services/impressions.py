"""Feed impressions: every post a feed page showed, as the contract's impression (a
POST_ENGAGED ``view`` with its ``feed_position``), so the ranker learns from real traffic.

Positions count from 0 on each page: the feed's training (``features.feed.training``) starts a
new served feed where a position does not grow, so each page is one served list. No dwell time:
a read cannot know how long the post stayed on screen (clients report that as their own view).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy.orm import Session

from core_api.events import EventType
from core_api.schemas.social import FeedItemOut
from core_api.services.outbox import emit


def record_impressions(
    db: Session,
    items: Sequence[FeedItemOut],
    *,
    viewer_id: str,
    context: dict[str, Any] | None = None,
) -> None:
    """Add one impression event per shown post to the session (the caller commits)."""
    for position, item in enumerate(items):
        emit(
            db,
            EventType.POST_ENGAGED,
            actor_id=viewer_id,
            subject_id=item.post.id,
            payload={
                "engagement": "view",
                "author_id": item.post.author_id,
                "feed_position": position,
            },
            context=context,
        )

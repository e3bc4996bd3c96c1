"""Writing a post and its POST_CREATED event: one place for a profile post and a group's."""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy.orm import Session

from core_api.db.social import Post
from core_api.events import EventType
from core_api.schemas.social import PostIn
from core_api.services.outbox import emit

# What counts as a link in text a user wrote: the fraud features count links in posts and
# messages (a spam farm's and a lure's signature), not their targets.
LINK = re.compile(r"https?://|www\.", re.IGNORECASE)


def has_link(text: str) -> bool:
    return bool(LINK.search(text))


def create_post(
    db: Session,
    body: PostIn,
    *,
    author_id: str,
    context: dict[str, Any],
    group_id: str | None = None,
) -> Post:
    """Add the post and its event to the session and flush (the caller commits)."""
    post = Post(
        author_id=author_id,
        body=body.body,
        topic=body.topic,
        visibility=body.visibility,
        group_id=group_id,
        media_urls=list(body.media_urls),
    )
    db.add(post)
    db.flush()
    payload: dict[str, Any] = {
        "visibility": post.visibility,
        "topic": post.topic,
        "text_length": len(post.body),
        "has_link": has_link(post.body),
        "has_media": body.has_media or bool(body.media_urls),
    }
    if group_id is not None:
        payload["group_id"] = group_id
    emit(
        db,
        EventType.POST_CREATED,
        actor_id=author_id,
        subject_id=post.id,
        payload=payload,
        context=context,
    )
    return post

"""Editing a post: its author changes the text, topic or media; the audience stays as published.

Every edit is a POST_EDITED event with the post as it now reads: a post that gathers reach and
then gains a link (bait and switch) shows up as an edit whose ``has_link`` turned true.
"""

from __future__ import annotations

from datetime import UTC, datetime
from uuid import UUID

from fastapi import APIRouter

from core_api.db.social import Post
from core_api.deps import ClientDep, CurrentUser, ServicesDep, SessionDep
from core_api.events import EventType
from core_api.schemas.social import PostOut, PostPatch
from core_api.services import posts
from core_api.services.guards import act, forbidden, invalid, not_found
from core_api.services.outbox import emit
from core_api.services.visibility import visible_post

router = APIRouter(prefix="/social", tags=["social"])


@router.patch("/posts/{post_id}", response_model=PostOut)
def edit_post(
    post_id: UUID,
    body: PostPatch,
    me: CurrentUser,
    db: SessionDep,
    services: ServicesDep,
    client: ClientDep,
) -> Post:
    post = visible_post(db, str(post_id), viewer_id=me.user.id)
    if post is None:
        raise not_found("no_such_post")
    if post.author_id != me.user.id:
        raise forbidden("not_the_author")
    act(services, client, me=me, action="post")  # an edit can carry what a new post can
    sent = body.model_fields_set
    for field in ("body", "topic"):
        if field in sent and getattr(body, field) is None:
            raise invalid(f"{field}_cannot_be_null")
    changes = {
        "body": body.body if "body" in sent else post.body,
        "topic": body.topic if "topic" in sent else post.topic,
        "media_urls": list(body.media_urls or []) if "media_urls" in sent else post.media_urls,
    }
    if all(getattr(post, name) == value for name, value in changes.items()):
        return post  # nothing changed: no edit, no event
    for name, value in changes.items():
        setattr(post, name, value)
    post.updated_at = datetime.now(UTC)
    emit(
        db,
        EventType.POST_EDITED,
        actor_id=me.user.id,
        subject_id=post.id,
        payload={
            "visibility": post.visibility,
            "topic": post.topic,
            "text_length": len(post.body),
            "has_link": posts.has_link(post.body),
            "has_media": bool(post.media_urls),
        },
        context=client.event_context(),
    )
    db.commit()
    return post

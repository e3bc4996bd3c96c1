"""Posts, follows, likes and comments, and the feed (fan-out on write, ranked read)."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Depends, HTTPException, Query, Response, status
from sqlalchemy import func, select

from core_api.db.social import Comment, Follow, Post, PostLike
from core_api.deps import ClientDep, CurrentUser, ServicesDep, SessionDep
from core_api.events import EventType
from core_api.schemas.social import (
    CommentIn,
    CommentOut,
    EngagementOut,
    FeedItemOut,
    FeedOut,
    FollowIn,
    FollowOut,
    PostIn,
    PostOut,
)
from core_api.services import posts
from core_api.services.feed_fallback import fallback_page, is_fallback_cursor
from core_api.services.guards import act, existing_user, invalid, not_found
from core_api.services.impressions import record_impressions
from core_api.services.outbox import emit
from core_api.services.visibility import audience, follows, visible_post, visible_posts, visible_to
from serving.feed.guard import Guarded, guarded_fan_out, guarded_read

log = logging.getLogger(__name__)
router = APIRouter(prefix="/social", tags=["social"])
Limit = Annotated[int, Query(ge=1, le=100)]


def get_feed(services: ServicesDep) -> Guarded:
    return services.feed


FeedDep = Annotated[Guarded, Depends(get_feed)]


def _post_or_404(db: SessionDep, post_id: UUID, viewer_id: str) -> Post:
    post = visible_post(db, str(post_id), viewer_id=viewer_id)
    if post is None:
        raise not_found("no_such_post")
    return post


# --- posts ----------------------------------------------------------------------------------
@router.post("/posts", status_code=status.HTTP_201_CREATED, response_model=PostOut)
def create_post(
    body: PostIn,
    me: CurrentUser,
    db: SessionDep,
    services: ServicesDep,
    client: ClientDep,
    feed: FeedDep,
) -> Post:
    act(services, client, me=me, action="post")
    post = posts.create_post(db, body, author_id=me.user.id, context=client.event_context())
    db.commit()
    viewers = audience(db, author_id=me.user.id, visibility=post.visibility)
    # The post is committed; a failed fan-out is logged and the post still shows in fallback
    # reads (``core_api.services.feed_fallback``) until the timelines are refilled.
    guarded_fan_out(
        feed,
        post_id=post.id,
        author_id=post.author_id,
        created_at=post.created_at,
        followers=viewers,
    )
    return post


@router.get("/posts/{post_id}", response_model=PostOut)
def get_post(post_id: UUID, me: CurrentUser, db: SessionDep) -> Post:
    return _post_or_404(db, post_id, me.user.id)


@router.delete("/posts/{post_id}", status_code=status.HTTP_204_NO_CONTENT)
def delete_post(post_id: UUID, me: CurrentUser, db: SessionDep) -> None:
    post = _post_or_404(db, post_id, me.user.id)
    if post.author_id != me.user.id:
        raise HTTPException(status.HTTP_403_FORBIDDEN, detail={"reason": "not_the_author"})
    db.delete(post)
    db.commit()  # timelines still hold the id; the feed read drops posts it cannot load


@router.get("/users/{user_id}/posts", response_model=list[PostOut])
def user_posts(user_id: UUID, me: CurrentUser, db: SessionDep, limit: Limit = 20) -> Sequence[Post]:
    existing_user(db, str(user_id))
    query = select(Post).where(Post.author_id == str(user_id), visible_to(me.user.id))
    return db.scalars(query.order_by(Post.created_at.desc(), Post.id.desc()).limit(limit)).all()


# --- likes and comments ---------------------------------------------------------------------
def _engaged(db: SessionDep, me: CurrentUser, post: Post, client: ClientDep, kind: str) -> None:
    emit(
        db,
        EventType.POST_ENGAGED,
        actor_id=me.user.id,
        subject_id=post.id,
        payload={"engagement": kind, "author_id": post.author_id},
        context=client.event_context(),
    )


@router.put("/posts/{post_id}/like", response_model=EngagementOut)
def like(
    post_id: UUID,
    me: CurrentUser,
    db: SessionDep,
    services: ServicesDep,
    client: ClientDep,
    response: Response,
) -> EngagementOut:
    post = _post_or_404(db, post_id, me.user.id)
    # The rules have no row for likes: they share the engagement row of comments.
    act(services, client, me=me, action="comment")
    if db.get(PostLike, (post.id, me.user.id)) is None:
        db.add(PostLike(post_id=post.id, user_id=me.user.id))
        _engaged(db, me, post, client, "like")
        db.commit()
        response.status_code = status.HTTP_201_CREATED
    return _engagement(db, post, me.user.id)


@router.delete("/posts/{post_id}/like", response_model=EngagementOut)
def unlike(post_id: UUID, me: CurrentUser, db: SessionDep) -> EngagementOut:
    post = _post_or_404(db, post_id, me.user.id)
    found = db.get(PostLike, (post.id, me.user.id))
    if found is not None:
        db.delete(found)
        db.commit()
    return _engagement(db, post, me.user.id)


@router.get("/posts/{post_id}/engagement", response_model=EngagementOut)
def engagement(post_id: UUID, me: CurrentUser, db: SessionDep) -> EngagementOut:
    return _engagement(db, _post_or_404(db, post_id, me.user.id), me.user.id)


def _engagement(db: SessionDep, post: Post, viewer_id: str) -> EngagementOut:
    likes = db.scalar(select(func.count()).where(PostLike.post_id == post.id)) or 0
    comments = db.scalar(select(func.count()).where(Comment.post_id == post.id)) or 0
    mine = db.get(PostLike, (post.id, viewer_id)) is not None
    return EngagementOut(post_id=post.id, likes=likes, comments=comments, liked_by_me=mine)


@router.post(
    "/posts/{post_id}/comments", status_code=status.HTTP_201_CREATED, response_model=CommentOut
)
def comment(
    post_id: UUID,
    body: CommentIn,
    me: CurrentUser,
    db: SessionDep,
    services: ServicesDep,
    client: ClientDep,
) -> Comment:
    post = _post_or_404(db, post_id, me.user.id)
    act(services, client, me=me, action="comment")
    row = Comment(post_id=post.id, author_id=me.user.id, body=body.body)
    db.add(row)
    _engaged(db, me, post, client, "comment")
    db.commit()
    return row


@router.get("/posts/{post_id}/comments", response_model=list[CommentOut])
def comments(
    post_id: UUID, me: CurrentUser, db: SessionDep, limit: Limit = 50
) -> Sequence[Comment]:
    post = _post_or_404(db, post_id, me.user.id)
    query = select(Comment).where(Comment.post_id == post.id)
    return db.scalars(query.order_by(Comment.created_at, Comment.id).limit(limit)).all()


# --- follows --------------------------------------------------------------------------------
@router.put("/follows/{user_id}", response_model=FollowOut)
def follow(
    user_id: UUID,
    me: CurrentUser,
    db: SessionDep,
    services: ServicesDep,
    client: ClientDep,
    response: Response,
    body: FollowIn | None = None,
) -> FollowOut:
    target = existing_user(db, str(user_id))
    if target.id == me.user.id:
        raise invalid("cannot_follow_self")
    act(services, client, me=me, action="follow")
    if db.get(Follow, (me.user.id, target.id)) is None:
        db.add(Follow(follower_id=me.user.id, followee_id=target.id))
        emit(
            db,
            EventType.USER_FOLLOWED,
            actor_id=me.user.id,
            subject_id=target.id,
            payload={"follow_source": (body or FollowIn()).source},
            context=client.event_context(),
        )
        db.commit()
        response.status_code = status.HTTP_201_CREATED
    return _follow_out(db, me.user.id, target.id)


@router.delete("/follows/{user_id}", status_code=status.HTTP_204_NO_CONTENT)
def unfollow(user_id: UUID, me: CurrentUser, db: SessionDep, client: ClientDep) -> None:
    found = db.get(Follow, (me.user.id, str(user_id)))
    if found is not None:
        db.delete(found)
        # The contract's unfollow: a removed connection of type follow.
        emit(
            db,
            EventType.TRUST_CONNECTION_REMOVED,
            actor_id=me.user.id,
            subject_id=str(user_id),
            payload={"edge_type": "follow"},
            context=client.event_context(),
        )
        db.commit()


@router.get("/follows/{user_id}", response_model=FollowOut)
def follow_state(user_id: UUID, me: CurrentUser, db: SessionDep) -> FollowOut:
    if db.get(Follow, (me.user.id, str(user_id))) is None:
        raise not_found("not_following")
    return _follow_out(db, me.user.id, str(user_id))


def _follow_out(db: SessionDep, follower: str, followee: str) -> FollowOut:
    mutual = bool(db.scalar(select(follows(followee, follower))))
    return FollowOut(follower_id=follower, followee_id=followee, mutual=mutual)


# --- feed -----------------------------------------------------------------------------------
@router.get("/feed", response_model=FeedOut)
def get_feed_page(
    me: CurrentUser,
    db: SessionDep,
    feed: FeedDep,
    client: ClientDep,
    limit: Limit = 20,
    cursor: Annotated[str | None, Query(max_length=512)] = None,
) -> FeedOut:
    out = _feed_page(db, feed, me.user.id, limit=limit, cursor=cursor)
    record_impressions(db, out.items, viewer_id=me.user.id, context=client.event_context())
    db.commit()
    return out


def _feed_page(
    db: SessionDep, feed: Guarded, viewer_id: str, *, limit: int, cursor: str | None
) -> FeedOut:
    try:
        if cursor is not None and is_fallback_cursor(cursor):
            return fallback_page(db, viewer_id, cursor=cursor, limit=limit)
        page = guarded_read(feed, viewer_id, cursor=cursor, page=limit)
    except ValueError:
        raise HTTPException(status.HTTP_400_BAD_REQUEST, detail={"reason": "bad_cursor"}) from None
    if page is None:  # the feed store failed or its circuit is open: see services.feed_fallback
        return fallback_page(db, viewer_id, cursor=None, limit=limit)
    # Timelines were filled at write time; who may see a post is decided now (unfollows,
    # deletions and visibility all take effect on the next read).
    posts = visible_posts(db, [item.post_id for item in page.items], viewer_id=viewer_id)
    items = [
        FeedItemOut(post=PostOut.model_validate(posts[i.post_id]), score=i.score, ranked=i.scored)
        for i in page.items
        if i.post_id in posts
    ]
    return FeedOut(items=items, cursor=page.cursor, version=page.version)

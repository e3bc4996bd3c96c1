"""Who may see a post, as one SQL condition every read path shares (by id, lists, comments,
likes, the feed), so no path can forget a case.

``public``: anyone signed in; ``friends``: the author and users in a mutual follow with them;
``private``: the author only. A group's post (``group_id`` set) is seen by the group's members
only, and among them by that rule.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import ColumnElement, SQLColumnExpression, and_, exists, or_, select
from sqlalchemy.orm import Session, aliased

from core_api.db.groups import GroupMember
from core_api.db.social import Follow, Post


def follows(
    a: SQLColumnExpression[str] | str, b: SQLColumnExpression[str] | str
) -> ColumnElement[bool]:
    edge = aliased(Follow)
    return exists(select(edge).where(edge.follower_id == a, edge.followee_id == b))


def visible_to(viewer_id: str) -> ColumnElement[bool]:
    friends = and_(
        Post.visibility == "friends",
        follows(viewer_id, Post.author_id),
        follows(Post.author_id, viewer_id),
    )
    by_visibility = or_(Post.author_id == viewer_id, Post.visibility == "public", friends)
    in_group = exists(
        select(GroupMember.user_id).where(
            GroupMember.group_id == Post.group_id, GroupMember.user_id == viewer_id
        )
    )
    return and_(or_(Post.group_id.is_(None), in_group), by_visibility)


def visible_post(db: Session, post_id: str, *, viewer_id: str) -> Post | None:
    """The post if ``viewer_id`` may see it; ``None`` whether it is hidden or absent, so a
    probe cannot tell the two apart."""
    return db.scalar(select(Post).where(Post.id == post_id, visible_to(viewer_id)))


def audience(db: Session, *, author_id: str, visibility: str) -> list[str]:
    """Whose timelines a new post goes to: the author and the followers allowed to see it."""
    if visibility == "private":
        return [author_id]
    query = select(Follow.follower_id).where(Follow.followee_id == author_id)
    if visibility == "friends":
        query = query.where(follows(author_id, Follow.follower_id))
    return [author_id, *db.scalars(query)]


def visible_posts(db: Session, post_ids: Sequence[str], *, viewer_id: str) -> dict[str, Post]:
    if not post_ids:
        return {}
    found = db.scalars(select(Post).where(Post.id.in_(post_ids), visible_to(viewer_id)))
    return {post.id: post for post in found}

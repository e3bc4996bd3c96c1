"""Groups and communities (``/groups``): see ``core_api.services.groups`` for the rules."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated, Literal
from uuid import UUID

from fastapi import APIRouter, Query, Response, status
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core_api.db.groups import Group, GroupMember, JoinRequest
from core_api.db.social import Post
from core_api.deps import ClientDep, CurrentUser, ServicesDep, SessionDep
from core_api.events import EventType
from core_api.schemas.groups import (
    GroupIn,
    GroupMemberOut,
    GroupOut,
    JoinIn,
    JoinOut,
    JoinRequestOut,
    RoleIn,
)
from core_api.schemas.social import PostIn, PostOut
from core_api.services import groups, posts
from core_api.services.guards import act, conflict, not_found, require_active
from core_api.services.outbox import emit
from core_api.services.visibility import visible_to

router = APIRouter(prefix="/groups", tags=["groups"])
Limit = Annotated[int, Query(ge=1, le=100)]


def _out(db: Session, group: Group, user_id: str) -> GroupOut:
    mine = db.get(GroupMember, (group.id, user_id))
    count = db.scalar(select(func.count()).where(GroupMember.group_id == group.id))
    return GroupOut(
        id=group.id,
        name=group.name,
        description=group.description,
        join_policy=group.join_policy,
        min_trust=group.min_trust,
        members=int(count or 0),
        my_role=mine.role if mine else None,
        created_at=group.created_at,
    )


@router.post("", status_code=status.HTTP_201_CREATED, response_model=GroupOut)
def create_group(body: GroupIn, me: CurrentUser, db: SessionDep, client: ClientDep) -> GroupOut:
    require_active(me)
    group = Group(
        name=body.name,
        description=body.description,
        join_policy=body.join_policy,
        min_trust=body.min_trust,
        created_by=me.user.id,
    )
    db.add(group)
    db.flush()
    context = client.event_context()
    payload = {"join_policy": group.join_policy, "min_trust": group.min_trust}
    emit(
        db,
        EventType.GROUP_CREATED,
        actor_id=me.user.id,
        subject_id=group.id,
        payload=payload,
        context=context,
    )
    groups.admit(
        db,
        group,
        user_id=me.user.id,
        actor_id=me.user.id,
        role="owner",
        via="created",
        context=context,
    )
    db.commit()
    return _out(db, group, me.user.id)


@router.get("/mine", response_model=list[GroupOut])
def my_groups(me: CurrentUser, db: SessionDep, limit: Limit = 50) -> list[GroupOut]:
    query = (
        select(Group)
        .join(GroupMember, GroupMember.group_id == Group.id)
        .where(GroupMember.user_id == me.user.id)
        .order_by(Group.created_at.desc(), Group.id)
        .limit(limit)
    )
    return [_out(db, g, me.user.id) for g in db.scalars(query)]


@router.get("/{group_id}", response_model=GroupOut)
def get_group(group_id: UUID, me: CurrentUser, db: SessionDep) -> GroupOut:
    return _out(db, groups.group_or_404(db, str(group_id)), me.user.id)


@router.post("/{group_id}/join", response_model=JoinOut)
def join(
    group_id: UUID,
    body: JoinIn,
    me: CurrentUser,
    db: SessionDep,
    services: ServicesDep,
    client: ClientDep,
) -> JoinOut:
    require_active(me)
    group = groups.group_or_404(db, str(group_id))
    if db.get(GroupMember, (group.id, me.user.id)) is not None:
        raise conflict("already_member")
    groups.check_trust(services.store, group, user_id=me.user.id)
    if group.join_policy == "open":
        context = client.event_context()
        groups.admit(
            db, group, user_id=me.user.id, actor_id=me.user.id, via="open", context=context
        )
        db.commit()
        return JoinOut(status="member")
    request = db.get(JoinRequest, (group.id, me.user.id))
    if request is None:
        db.add(JoinRequest(group_id=group.id, user_id=me.user.id, status="pending", note=body.note))
    elif request.status != "pending":  # asking again after a rejection (or after leaving)
        request.status, request.note = "pending", body.note
        request.decided_at = request.decided_by = None
    db.commit()
    return JoinOut(status="pending")


@router.get("/{group_id}/requests", response_model=list[JoinRequestOut])
def pending_requests(
    group_id: UUID, me: CurrentUser, db: SessionDep, limit: Limit = 50
) -> Sequence[JoinRequest]:
    groups.member(db, str(group_id), user_id=me.user.id, need="moderator")
    query = select(JoinRequest).where(
        JoinRequest.group_id == str(group_id), JoinRequest.status == "pending"
    )
    return db.scalars(
        query.order_by(JoinRequest.created_at, JoinRequest.user_id).limit(limit)
    ).all()


@router.post("/{group_id}/requests/{user_id}/{verdict}", response_model=JoinRequestOut)
def decide_request(
    group_id: UUID,
    user_id: UUID,
    verdict: Literal["approve", "reject"],
    me: CurrentUser,
    db: SessionDep,
    services: ServicesDep,
    client: ClientDep,
) -> JoinRequest:
    require_active(me)
    groups.member(db, str(group_id), user_id=me.user.id, need="moderator")
    group = groups.group_or_404(db, str(group_id))
    request = groups.decide_request(
        db,
        services.store,
        group=group,
        user_id=str(user_id),
        moderator_id=me.user.id,
        approve=verdict == "approve",
        context=client.event_context(),
    )
    db.commit()
    return request


@router.get("/{group_id}/members", response_model=list[GroupMemberOut])
def members(
    group_id: UUID, me: CurrentUser, db: SessionDep, limit: Limit = 100
) -> Sequence[GroupMember]:
    groups.member(db, str(group_id), user_id=me.user.id)
    query = select(GroupMember).where(GroupMember.group_id == str(group_id))
    return db.scalars(query.order_by(GroupMember.joined_at, GroupMember.user_id).limit(limit)).all()


@router.put("/{group_id}/members/{user_id}", response_model=GroupMemberOut)
def set_role(
    group_id: UUID, user_id: UUID, body: RoleIn, me: CurrentUser, db: SessionDep
) -> GroupMember:
    require_active(me)
    groups.member(db, str(group_id), user_id=me.user.id, need="owner")
    target = db.get(GroupMember, (str(group_id), str(user_id)))
    if target is None:
        raise not_found("no_such_member")
    if target.role == "owner":
        raise conflict("owner_role_fixed")
    target.role = body.role
    db.commit()
    return target


@router.delete("/{group_id}/members/{user_id}", status_code=status.HTTP_204_NO_CONTENT)
def remove_member(
    group_id: UUID, user_id: UUID, me: CurrentUser, db: SessionDep, client: ClientDep
) -> Response:
    actor = groups.member(db, str(group_id), user_id=me.user.id)
    target = db.get(GroupMember, (str(group_id), str(user_id)))
    if target is None:
        raise not_found("no_such_member")
    group = groups.group_or_404(db, str(group_id))
    groups.remove(db, group, target=target, actor=actor, context=client.event_context())
    db.commit()
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post("/{group_id}/posts", status_code=status.HTTP_201_CREATED, response_model=PostOut)
def create_group_post(
    group_id: UUID,
    body: PostIn,
    me: CurrentUser,
    db: SessionDep,
    services: ServicesDep,
    client: ClientDep,
) -> Post:
    groups.member(db, str(group_id), user_id=me.user.id)
    act(services, client, me=me, action="post")  # the same limits as any post
    post = posts.create_post(
        db, body, author_id=me.user.id, context=client.event_context(), group_id=str(group_id)
    )
    db.commit()
    return post


@router.get("/{group_id}/posts", response_model=list[PostOut])
def group_posts(
    group_id: UUID, me: CurrentUser, db: SessionDep, limit: Limit = 20
) -> Sequence[Post]:
    groups.member(db, str(group_id), user_id=me.user.id)
    query = select(Post).where(Post.group_id == str(group_id), visible_to(me.user.id))
    return db.scalars(query.order_by(Post.created_at.desc(), Post.id.desc()).limit(limit)).all()


@router.delete("/{group_id}/posts/{post_id}", status_code=status.HTTP_204_NO_CONTENT)
def delete_group_post(group_id: UUID, post_id: UUID, me: CurrentUser, db: SessionDep) -> Response:
    """The author, or a moderator: moderating is what the role is for."""
    mine = groups.member(db, str(group_id), user_id=me.user.id)
    query = select(Post).where(
        Post.id == str(post_id), Post.group_id == str(group_id), visible_to(me.user.id)
    )
    post = db.scalar(query)
    if post is None:
        raise not_found("no_such_post")
    if post.author_id != me.user.id and groups.RANK[mine.role] < groups.RANK["moderator"]:
        raise groups.role_needed("moderator")
    db.delete(post)
    db.commit()
    return Response(status_code=status.HTTP_204_NO_CONTENT)

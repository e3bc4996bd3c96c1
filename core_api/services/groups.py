"""Groups: roles, joining (open, or by a moderator's approval), the trust gate, and leaving.

Roles rank member < moderator < owner. An outsider may see a group (its name, policy and
minimum trust: what they need to decide to join) but not its members, requests or posts: those
answer 404, as if absent. A member whose role is too low gets 403 with the role needed.

The trust gate reads the user's published trust from the online store, like the access
decisions do. A group with a minimum keeps out unscored users (nothing published yet), and
refuses with 503 when the store cannot answer: it fails closed. It is checked when a user asks
and again when a moderator approves, since trust moves in between.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from fastapi import HTTPException, status
from sqlalchemy.orm import Session

from core_api.db.groups import GROUP_ROLES, Group, GroupMember, JoinRequest
from core_api.events import EventType
from core_api.services.guards import forbidden, not_found
from core_api.services.outbox import emit
from serving.store import Ask, DecisionStore

RANK = {role: i for i, role in enumerate(GROUP_ROLES)}


def group_or_404(db: Session, group_id: str) -> Group:
    group = db.get(Group, group_id)
    if group is None:
        raise not_found("no_such_group")
    return group


def member(db: Session, group_id: str, *, user_id: str, need: str = "member") -> GroupMember:
    """The caller's membership if their role is at least ``need``; 404 for outsiders."""
    found = db.get(GroupMember, (group_id, user_id))
    if found is None:
        raise not_found("no_such_group")
    if RANK[found.role] < RANK[need]:
        raise role_needed(need)
    return found


def role_needed(role: str) -> HTTPException:
    return HTTPException(
        status.HTTP_403_FORBIDDEN, detail={"reason": "role_required", "role": role}
    )


def check_trust(store: DecisionStore, group: Group, *, user_id: str) -> None:
    if group.min_trust <= 0:
        return
    try:
        record = store.fetch(Ask(user_id=user_id)).record
    except Exception:
        raise HTTPException(
            status.HTTP_503_SERVICE_UNAVAILABLE, detail={"reason": "trust_unavailable"}
        ) from None
    if record is None:
        raise forbidden("trust_unknown")
    if record.trust < group.min_trust:
        raise forbidden("trust_too_low")


def admit(
    db: Session,
    group: Group,
    *,
    user_id: str,
    actor_id: str,
    role: str = "member",
    via: str,
    context: dict[str, Any],
) -> GroupMember:
    row = GroupMember(group_id=group.id, user_id=user_id, role=role)
    db.add(row)
    emit(
        db,
        EventType.GROUP_JOINED,
        actor_id=actor_id,
        subject_id=user_id,
        payload={"group_id": group.id, "group_role": role, "join_via": via},
        context=context,
    )
    return row


def decide_request(
    db: Session,
    store: DecisionStore,
    *,
    group: Group,
    user_id: str,
    moderator_id: str,
    approve: bool,
    context: dict[str, Any],
) -> JoinRequest:
    request = db.get(JoinRequest, (group.id, user_id), with_for_update=True)
    if request is None or request.status != "pending":
        raise not_found("no_such_request")
    if approve:
        check_trust(store, group, user_id=user_id)
        admit(db, group, user_id=user_id, actor_id=moderator_id, via="approved", context=context)
    else:
        emit(
            db,
            EventType.GROUP_JOIN_REJECTED,
            actor_id=moderator_id,
            subject_id=user_id,
            payload={"group_id": group.id},
            context=context,
        )
    request.status = "approved" if approve else "rejected"
    request.decided_at, request.decided_by = datetime.now(UTC), moderator_id
    return request


def remove(
    db: Session, group: Group, *, target: GroupMember, actor: GroupMember, context: dict[str, Any]
) -> None:
    """Leave (oneself) or remove (a member below the actor's role). The owner cannot leave:
    a group always has one."""
    leaving = target.user_id == actor.user_id
    if target.role == "owner":
        raise forbidden("owner_cannot_leave" if leaving else "owner_cannot_be_removed")
    if not leaving and RANK[actor.role] <= RANK[target.role]:
        raise role_needed(GROUP_ROLES[RANK[target.role] + 1])
    db.delete(target)
    emit(
        db,
        EventType.GROUP_MEMBER_LEFT,
        actor_id=actor.user_id,
        subject_id=target.user_id,
        payload={"group_id": group.id, "group_exit": "left" if leaving else "removed"},
        context=context,
    )

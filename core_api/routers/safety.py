"""Reporting and blocking a user: signals the fraud model and the review queue read.

A report opens (or adds to) the reported user's review case on the next sync; a block also
ends any follow between the two, both ways. Each writes its row and its event
(USER_REPORTED, USER_BLOCKED) in one transaction; unblocking emits nothing (the contract has
no such event, and a lifted block is no evidence of anything).
"""

from __future__ import annotations

from uuid import UUID

from fastapi import APIRouter, Response, status
from sqlalchemy import delete, or_

from core_api.db.review import UserBlock, UserReport
from core_api.db.social import Follow
from core_api.deps import ClientDep, CurrentUser, ServicesDep, SessionDep
from core_api.events import EventType
from core_api.schemas.safety import BlockOut, ReportIn, ReportOut
from core_api.services.guards import act, existing_user, invalid
from core_api.services.outbox import emit

router = APIRouter(prefix="/social", tags=["social"])


@router.post(
    "/users/{user_id}/reports", status_code=status.HTTP_201_CREATED, response_model=ReportOut
)
def report(
    user_id: UUID,
    body: ReportIn,
    me: CurrentUser,
    db: SessionDep,
    services: ServicesDep,
    client: ClientDep,
) -> UserReport:
    target = existing_user(db, str(user_id))
    if target.id == me.user.id:
        raise invalid("cannot_report_self")
    act(services, client, me=me, action="report")
    row = UserReport(
        reporter_id=me.user.id, reported_id=target.id, reason=body.reason, note=body.note
    )
    db.add(row)
    emit(
        db,
        EventType.USER_REPORTED,
        actor_id=me.user.id,
        subject_id=target.id,
        payload={"report_reason": body.reason},
        context=client.event_context(),
    )
    db.commit()
    return row


@router.put("/blocks/{user_id}", response_model=BlockOut)
def block(
    user_id: UUID,
    me: CurrentUser,
    db: SessionDep,
    services: ServicesDep,
    client: ClientDep,
    response: Response,
) -> UserBlock:
    target = existing_user(db, str(user_id))
    if target.id == me.user.id:
        raise invalid("cannot_block_self")
    found = db.get(UserBlock, (me.user.id, target.id))
    if found is not None:
        return found
    act(services, client, me=me, action="block")
    row = UserBlock(blocker_id=me.user.id, blocked_id=target.id)
    db.add(row)
    db.execute(
        delete(Follow).where(
            or_(
                (Follow.follower_id == me.user.id) & (Follow.followee_id == target.id),
                (Follow.follower_id == target.id) & (Follow.followee_id == me.user.id),
            )
        )
    )
    emit(
        db,
        EventType.USER_BLOCKED,
        actor_id=me.user.id,
        subject_id=target.id,
        payload={},
        context=client.event_context(),
    )
    db.commit()
    response.status_code = status.HTTP_201_CREATED
    return row


@router.delete("/blocks/{user_id}", status_code=status.HTTP_204_NO_CONTENT)
def unblock(user_id: UUID, me: CurrentUser, db: SessionDep) -> None:
    found = db.get(UserBlock, (me.user.id, str(user_id)))
    if found is not None:
        db.delete(found)
        db.commit()

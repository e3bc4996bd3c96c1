"""Workspaces and their members. Every call checks the caller's role in the workspace:
viewer reads, member edits tasks, admin manages members and projects, owner deletes.

A caller outside the workspace gets 404 (it may not learn the workspace exists); a member whose
role is too low gets 403 with the role needed.
"""

from __future__ import annotations

from collections.abc import Sequence
from uuid import UUID

from fastapi import APIRouter, HTTPException, Response, status
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from core_api.db.collab import ROLES, Membership, Workspace
from core_api.deps import ClientDep, CurrentUser, SessionDep
from core_api.events import EventType
from core_api.schemas.collab import MemberIn, MemberOut, WorkspaceIn, WorkspaceOut, WorkspacePatch
from core_api.services.guards import conflict, existing_user, not_found, require_active
from core_api.services.outbox import emit

router = APIRouter(prefix="/collab", tags=["collab"])
RANK = {role: i for i, role in enumerate(ROLES)}


def membership(
    db: Session, workspace_id: str, user_id: str, *, need: str, missing: str = "no_such_workspace"
) -> Membership:
    """The caller's membership if their role is at least ``need``; else 403, or 404 with the
    ``missing`` reason the caller would get for an absent object (outsiders learn nothing)."""
    found = db.get(Membership, (workspace_id, user_id))
    if found is None:
        raise not_found(missing)
    if RANK[found.role] < RANK[need]:
        raise HTTPException(
            status.HTTP_403_FORBIDDEN, detail={"reason": "role_required", "role": need}
        )
    return found


def _out(workspace: Workspace, role: str) -> WorkspaceOut:
    return WorkspaceOut(
        id=workspace.id,
        name=workspace.name,
        plan=workspace.plan,
        created_at=workspace.created_at,
        my_role=role,
    )


def _member_added(db: Session, member: Membership, *, actor: str, client: ClientDep) -> None:
    emit(
        db,
        EventType.WORKSPACE_MEMBER_ADDED,
        actor_id=actor,
        subject_id=member.user_id,
        payload={"workspace_id": member.workspace_id, "role": member.role},
        context=client.event_context(),
    )


@router.post("/workspaces", status_code=status.HTTP_201_CREATED, response_model=WorkspaceOut)
def create_workspace(
    body: WorkspaceIn, me: CurrentUser, db: SessionDep, client: ClientDep
) -> WorkspaceOut:
    require_active(me)
    workspace = Workspace(name=body.name, plan=body.plan, created_by=me.user.id)
    db.add(workspace)
    db.flush()
    owner = Membership(workspace_id=workspace.id, user_id=me.user.id, role="owner")
    db.add(owner)
    emit(
        db,
        EventType.WORKSPACE_CREATED,
        actor_id=me.user.id,
        subject_id=workspace.id,
        payload={"plan": workspace.plan},
        context=client.event_context(),
    )
    _member_added(db, owner, actor=me.user.id, client=client)
    db.commit()
    return _out(workspace, "owner")


@router.get("/workspaces", response_model=list[WorkspaceOut])
def my_workspaces(me: CurrentUser, db: SessionDep) -> list[WorkspaceOut]:
    rows = db.execute(
        select(Workspace, Membership.role)
        .join(Membership, Membership.workspace_id == Workspace.id)
        .where(Membership.user_id == me.user.id)
        .order_by(Workspace.created_at, Workspace.id)
    ).all()
    return [_out(workspace, role) for workspace, role in rows]


@router.get("/workspaces/{workspace_id}", response_model=WorkspaceOut)
def get_workspace(workspace_id: UUID, me: CurrentUser, db: SessionDep) -> WorkspaceOut:
    mine = membership(db, str(workspace_id), me.user.id, need="viewer")
    return _out(db.get_one(Workspace, mine.workspace_id), mine.role)


@router.patch("/workspaces/{workspace_id}", response_model=WorkspaceOut)
def rename_workspace(
    workspace_id: UUID, body: WorkspacePatch, me: CurrentUser, db: SessionDep
) -> WorkspaceOut:
    require_active(me)
    mine = membership(db, str(workspace_id), me.user.id, need="admin")
    workspace = db.get_one(Workspace, mine.workspace_id)
    workspace.name = body.name
    db.commit()
    return _out(workspace, mine.role)


@router.delete("/workspaces/{workspace_id}", status_code=status.HTTP_204_NO_CONTENT)
def delete_workspace(workspace_id: UUID, me: CurrentUser, db: SessionDep) -> None:
    require_active(me)
    mine = membership(db, str(workspace_id), me.user.id, need="owner")
    # A bulk delete lets the database cascade to members, projects and tasks in one statement.
    db.execute(delete(Workspace).where(Workspace.id == mine.workspace_id))
    db.commit()


@router.get("/workspaces/{workspace_id}/members", response_model=list[MemberOut])
def members(workspace_id: UUID, me: CurrentUser, db: SessionDep) -> Sequence[Membership]:
    mine = membership(db, str(workspace_id), me.user.id, need="viewer")
    query = select(Membership).where(Membership.workspace_id == mine.workspace_id)
    return db.scalars(query.order_by(Membership.created_at, Membership.user_id)).all()


def _owners(db: Session, workspace_id: str) -> int:
    query = select(func.count()).where(
        Membership.workspace_id == workspace_id, Membership.role == "owner"
    )
    return db.scalar(query) or 0


@router.put("/workspaces/{workspace_id}/members/{user_id}", response_model=MemberOut)
def set_member(
    workspace_id: UUID,
    user_id: UUID,
    body: MemberIn,
    me: CurrentUser,
    db: SessionDep,
    client: ClientDep,
    response: Response,
) -> Membership:
    require_active(me)
    mine = membership(db, str(workspace_id), me.user.id, need="admin")
    target = existing_user(db, str(user_id))
    current = db.get(Membership, (mine.workspace_id, target.id))
    # Owners are made and unmade by owners only: an admin cannot promote themselves past it.
    if "owner" in (body.role, current.role if current else None) and mine.role != "owner":
        raise HTTPException(
            status.HTTP_403_FORBIDDEN, detail={"reason": "role_required", "role": "owner"}
        )
    if current is None:
        current = Membership(workspace_id=mine.workspace_id, user_id=target.id, role=body.role)
        db.add(current)
        response.status_code = status.HTTP_201_CREATED
    elif current.role == body.role:
        return current
    else:
        if current.role == "owner" and _owners(db, mine.workspace_id) == 1:
            raise conflict("last_owner")
        current.role = body.role
    _member_added(db, current, actor=me.user.id, client=client)
    db.commit()
    return current


@router.delete(
    "/workspaces/{workspace_id}/members/{user_id}", status_code=status.HTTP_204_NO_CONTENT
)
def remove_member(workspace_id: UUID, user_id: UUID, me: CurrentUser, db: SessionDep) -> None:
    leaving = str(user_id) == me.user.id  # anyone may leave; removing others takes an admin
    mine = membership(db, str(workspace_id), me.user.id, need="viewer" if leaving else "admin")
    current = db.get(Membership, (mine.workspace_id, str(user_id)))
    if current is None:
        raise not_found("not_a_member")
    if current.role == "owner":
        if mine.role != "owner":
            raise HTTPException(
                status.HTTP_403_FORBIDDEN, detail={"reason": "role_required", "role": "owner"}
            )
        if _owners(db, mine.workspace_id) == 1:
            raise conflict("last_owner")
    db.delete(current)
    db.commit()

"""Projects and tasks inside a workspace, under the same role checks as ``collab``:
viewer reads, member creates and edits tasks, admin creates and deletes projects and tasks."""

from __future__ import annotations

from collections.abc import Sequence
from uuid import UUID

from fastapi import APIRouter, status
from sqlalchemy import select
from sqlalchemy.orm import Session

from core_api.db.collab import Membership, Project, Task
from core_api.deps import ClientDep, CurrentUser, Principal, SessionDep
from core_api.events import EventType
from core_api.routers.collab import membership
from core_api.schemas.collab import ProjectIn, ProjectOut, TaskIn, TaskOut, TaskPatch
from core_api.services.guards import invalid, not_found, require_active
from core_api.services.outbox import emit

router = APIRouter(prefix="/collab", tags=["collab"])


def _project(
    db: Session, project_id: str, me: Principal, *, need: str, missing: str = "no_such_project"
) -> Project:
    project = db.get(Project, project_id)
    if project is None:
        raise not_found(missing)
    membership(db, project.workspace_id, me.user.id, need=need, missing=missing)
    return project


def _task(db: Session, task_id: UUID, me: Principal, *, need: str) -> tuple[Task, Project]:
    task = db.get(Task, str(task_id))
    if task is None:
        raise not_found("no_such_task")
    return task, _project(db, task.project_id, me, need=need, missing="no_such_task")


def _assignable(db: Session, workspace_id: str, assignee: UUID | None) -> str | None:
    if assignee is None:
        return None
    if db.get(Membership, (workspace_id, str(assignee))) is None:
        raise invalid("assignee_not_a_member")
    return str(assignee)


@router.post(
    "/workspaces/{workspace_id}/projects",
    status_code=status.HTTP_201_CREATED,
    response_model=ProjectOut,
)
def create_project(
    workspace_id: UUID, body: ProjectIn, me: CurrentUser, db: SessionDep, client: ClientDep
) -> Project:
    require_active(me)
    mine = membership(db, str(workspace_id), me.user.id, need="admin")
    project = Project(workspace_id=mine.workspace_id, name=body.name, description=body.description)
    db.add(project)
    db.flush()
    emit(
        db,
        EventType.PROJECT_CREATED,
        actor_id=me.user.id,
        subject_id=project.id,
        payload={"workspace_id": project.workspace_id},
        context=client.event_context(),
    )
    db.commit()
    return project


@router.get("/workspaces/{workspace_id}/projects", response_model=list[ProjectOut])
def projects(workspace_id: UUID, me: CurrentUser, db: SessionDep) -> Sequence[Project]:
    mine = membership(db, str(workspace_id), me.user.id, need="viewer")
    query = select(Project).where(Project.workspace_id == mine.workspace_id)
    return db.scalars(query.order_by(Project.created_at, Project.id)).all()


@router.get("/projects/{project_id}", response_model=ProjectOut)
def get_project(project_id: UUID, me: CurrentUser, db: SessionDep) -> Project:
    return _project(db, str(project_id), me, need="viewer")


@router.delete("/projects/{project_id}", status_code=status.HTTP_204_NO_CONTENT)
def delete_project(project_id: UUID, me: CurrentUser, db: SessionDep) -> None:
    require_active(me)
    db.delete(_project(db, str(project_id), me, need="admin"))
    db.commit()


@router.post(
    "/projects/{project_id}/tasks", status_code=status.HTTP_201_CREATED, response_model=TaskOut
)
def create_task(
    project_id: UUID, body: TaskIn, me: CurrentUser, db: SessionDep, client: ClientDep
) -> Task:
    require_active(me)
    project = _project(db, str(project_id), me, need="member")
    assignee = _assignable(db, project.workspace_id, body.assignee_id)
    task = Task(
        project_id=project.id,
        title=body.title,
        description=body.description,
        status="todo",
        assignee_id=assignee,
    )
    db.add(task)
    db.flush()
    emit(
        db,
        EventType.TASK_CREATED,
        actor_id=me.user.id,
        subject_id=task.id,
        payload={"project_id": project.id, "assignee_id": assignee},
        context=client.event_context(),
    )
    db.commit()
    return task


@router.get("/projects/{project_id}/tasks", response_model=list[TaskOut])
def tasks(project_id: UUID, me: CurrentUser, db: SessionDep) -> Sequence[Task]:
    project = _project(db, str(project_id), me, need="viewer")
    query = select(Task).where(Task.project_id == project.id)
    return db.scalars(query.order_by(Task.created_at, Task.id)).all()


@router.get("/tasks/{task_id}", response_model=TaskOut)
def get_task(task_id: UUID, me: CurrentUser, db: SessionDep) -> Task:
    return _task(db, task_id, me, need="viewer")[0]


@router.patch("/tasks/{task_id}", response_model=TaskOut)
def update_task(
    task_id: UUID, body: TaskPatch, me: CurrentUser, db: SessionDep, client: ClientDep
) -> Task:
    require_active(me)
    task, project = _task(db, task_id, me, need="member")
    sent = body.model_fields_set
    if "assignee_id" in sent:
        task.assignee_id = _assignable(db, project.workspace_id, body.assignee_id)
    for field in ("title", "description", "status"):
        value = getattr(body, field)
        if field in sent and value is None:
            raise invalid(f"{field}_cannot_be_null")
        if value is not None:
            setattr(task, field, value)
    if db.is_modified(task):
        db.flush()  # updated_at moves with the change
        emit(
            db,
            EventType.TASK_UPDATED,
            actor_id=me.user.id,
            subject_id=task.id,
            payload={
                "project_id": project.id,
                "task_status": task.status,
                "assignee_id": task.assignee_id,
            },
            context=client.event_context(),
        )
        db.commit()
    return task


@router.delete("/tasks/{task_id}", status_code=status.HTTP_204_NO_CONTENT)
def delete_task(task_id: UUID, me: CurrentUser, db: SessionDep) -> None:
    require_active(me)
    db.delete(_task(db, task_id, me, need="admin")[0])
    db.commit()

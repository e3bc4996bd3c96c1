"""Collaboration requests and responses."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, StringConstraints

from core_api.schemas.base import In

Role = Literal["owner", "admin", "member", "viewer"]
TaskStatus = Literal["todo", "in_progress", "done", "blocked"]
Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=120)]
Title = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
Description = Annotated[str, StringConstraints(max_length=10_000)]


_In = In  # refuses unknown fields and text a database cannot store


class WorkspaceIn(_In):
    name: Name
    plan: Literal["free", "team", "business"] = "free"


class WorkspacePatch(_In):
    name: Name


class MemberIn(_In):
    role: Role


class ProjectIn(_In):
    name: Name
    description: Description = ""


class TaskIn(_In):
    title: Title
    description: Description = ""
    assignee_id: UUID | None = None


class TaskPatch(_In):
    """Only the fields sent change; ``"assignee_id": null`` unassigns."""

    title: Title | None = None
    description: Description | None = None
    status: TaskStatus | None = None
    assignee_id: UUID | None = None


class WorkspaceOut(BaseModel):
    id: str
    name: str
    plan: str
    created_at: datetime
    my_role: str


class MemberOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    workspace_id: str
    user_id: str
    role: str
    created_at: datetime


class ProjectOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: str
    workspace_id: str
    name: str
    description: str = ""
    created_at: datetime


class TaskOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: str
    project_id: str
    title: str
    description: str
    status: str
    assignee_id: str | None
    created_at: datetime
    updated_at: datetime

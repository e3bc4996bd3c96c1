"""Groups requests and responses."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from core_api.schemas.base import In

Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=80)]


class GroupIn(In):
    name: Name
    description: Annotated[str, StringConstraints(max_length=2000)] = ""
    join_policy: Literal["open", "request"] = "open"
    min_trust: Annotated[float, Field(ge=0.0, le=1.0, allow_inf_nan=False)] = 0.0


class GroupOut(BaseModel):
    id: str
    name: str
    description: str
    join_policy: str
    min_trust: float
    members: int
    my_role: str | None = Field(description="Null: not a member")
    created_at: datetime


class JoinIn(In):
    note: Annotated[str, StringConstraints(max_length=500)] = ""


class JoinOut(BaseModel):
    status: Literal["member", "pending"]


class JoinRequestOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    group_id: str
    user_id: str
    status: str
    note: str
    created_at: datetime


class GroupMemberOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    group_id: str
    user_id: str
    role: str
    joined_at: datetime


class RoleIn(In):
    role: Literal["member", "moderator"]

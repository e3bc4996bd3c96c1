"""Notification requests and responses."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from core_api.events.payloads import NotificationKind
from core_api.schemas.base import In


class NotificationOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: str
    kind: str
    title: str
    body: str
    subject_type: str | None
    subject_id: str | None
    count: int = Field(description="How many events this line stands for (messages coalesce)")
    created_at: datetime
    read_at: datetime | None


class NotificationPageOut(BaseModel):
    items: list[NotificationOut]
    next_before: str | None = Field(
        description="Pass as ?before= for the next (older) page; null on the last page"
    )
    unread: int


class UnreadOut(BaseModel):
    unread: int


class ReadAllOut(BaseModel):
    marked: int


class PreferenceIn(In):
    in_app: bool
    email: bool
    sms: bool


class PreferenceOut(BaseModel):
    kind: NotificationKind
    in_app: bool
    email: bool
    sms: bool
    customised: bool = Field(description="False: the kind's defaults, never changed")

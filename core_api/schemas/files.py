"""Attachment responses (uploads are multipart, not a JSON body)."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict

ParentKind = Literal["tasks", "messages", "listings"]  # as in the paths
PARENT_OF: dict[str, str] = {"tasks": "task", "messages": "message", "listings": "listing"}


class FileOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: str
    parent_type: Literal["task", "message", "listing"]
    parent_id: str
    owner_id: str
    name: str
    content_type: str
    size_bytes: int
    sha256: str
    created_at: datetime


UPLOAD_BODY = {
    "required": True,
    "content": {
        "multipart/form-data": {
            "schema": {
                "type": "object",
                "required": ["file"],
                "properties": {"file": {"type": "string", "format": "binary"}},
            }
        }
    },
}

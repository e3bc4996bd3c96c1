"""Identity requests and responses."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal
from uuid import UUID

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, StringConstraints

from core_api.schemas.base import In
from core_api.services.emails import normalize_email


def _normal_email(value: Any) -> Any:
    return normalize_email(value) if isinstance(value, str) else value


# Deliberately loose: the one real check of an address is the verification code sent to it.
Email = Annotated[
    str,
    BeforeValidator(_normal_email),
    StringConstraints(
        max_length=254, pattern=r"^[^@\s]{1,64}@[A-Za-z0-9.-]{1,252}\.[A-Za-z]{2,63}$"
    ),
]
Password = Annotated[str, StringConstraints(min_length=10, max_length=256)]
DisplayName = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=80)]
Phone = Annotated[str, StringConstraints(pattern=r"^\+[1-9][0-9]{6,14}$")]  # E.164
Code = Annotated[str, StringConstraints(pattern=r"^[0-9]{6}$")]
Channel = Literal["email", "phone"]


_In = In  # refuses unknown fields and text a database cannot store


class RegisterIn(_In):
    email: Email
    password: Password
    display_name: DisplayName
    referrer_id: UUID | None = None


class LoginIn(_In):
    email: Email
    password: Annotated[str, StringConstraints(min_length=1, max_length=256)]


class RefreshIn(_In):
    refresh_token: Annotated[str, StringConstraints(min_length=16, max_length=128)]


class ProfilePatch(_In):
    display_name: DisplayName | None = None
    bio: Annotated[str, StringConstraints(max_length=2000)] | None = None
    phone: Phone | None = None


class CodeIn(_In):
    code: Code


class TokensOut(BaseModel):
    access_token: str
    refresh_token: str
    token_type: Literal["bearer"] = "bearer"
    expires_in: int = Field(description="seconds the access token stays valid")
    scope: Literal["full", "appeal"] = Field(
        "full", description="appeal: a suspended or banned account, which may only appeal"
    )


class AccountOut(BaseModel):
    """The caller's own account."""

    model_config = ConfigDict(from_attributes=True)
    id: str
    email: str
    display_name: str
    bio: str
    phone: str | None
    status: str
    email_verified_at: datetime | None
    phone_verified_at: datetime | None
    created_at: datetime


class ProfileOut(BaseModel):
    """What anyone signed in may see of a user."""

    model_config = ConfigDict(from_attributes=True)
    id: str
    display_name: str
    bio: str
    verified: bool
    created_at: datetime


class DeviceOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: str
    platform: str
    first_seen_at: datetime
    last_seen_at: datetime


class CodeSentOut(BaseModel):
    channel: Literal["email", "phone", "mfa"]
    expires_in: int


class VerifiedOut(BaseModel):
    channel: Channel
    verified_at: datetime

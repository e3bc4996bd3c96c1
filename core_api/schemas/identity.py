"""Identity requests and responses."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Annotated, Any, Literal
from uuid import UUID

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
)

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


def _folded(upper: bool) -> BeforeValidator:
    # Case is folded before the pattern is checked (StringConstraints checks it first).
    def fold(value: Any) -> Any:
        if not isinstance(value, str):
            return value
        return value.strip().upper() if upper else value.strip().lower()

    return BeforeValidator(fold)


Username = Annotated[str, _folded(False), StringConstraints(pattern=r"^[a-z0-9_]{3,30}$")]
AvatarUrl = Annotated[str, StringConstraints(max_length=2048, pattern=r"^https://[^\s]+$")]
CountryCode = Annotated[str, _folded(True), StringConstraints(pattern=r"^[A-Z]{2}$")]


def _plausible_birth(value: date) -> date:
    age = (datetime.now(UTC).date() - value).days / 365.25
    if not 13 <= age <= 130:
        raise ValueError("date of birth out of range (13 to 130 years ago)")
    return value


BirthDate = Annotated[date, AfterValidator(_plausible_birth)]


_In = In  # refuses unknown fields and text a database cannot store


class RegisterIn(_In):
    email: Email
    password: Password
    display_name: DisplayName
    referrer_id: UUID | None = None
    username: Username | None = None
    country: CountryCode | None = None
    dob: BirthDate | None = None


class LoginIn(_In):
    email: Email
    password: Annotated[str, StringConstraints(min_length=1, max_length=256)]


class RefreshIn(_In):
    refresh_token: Annotated[str, StringConstraints(min_length=16, max_length=128)]


class ProfilePatch(_In):
    display_name: DisplayName | None = None
    bio: Annotated[str, StringConstraints(max_length=2000)] | None = None
    phone: Phone | None = None
    username: Username | None = None
    avatar_url: AvatarUrl | None = None
    dob: BirthDate | None = None
    country: CountryCode | None = None


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
    username: str | None = None
    avatar_url: str | None = None
    dob: date | None = None
    country: str | None = None


class ProfileOut(BaseModel):
    """What anyone signed in may see of a user."""

    model_config = ConfigDict(from_attributes=True)
    id: str
    display_name: str
    bio: str
    verified: bool
    created_at: datetime
    username: str | None = None
    avatar_url: str | None = None
    country: str | None = None


class DeviceOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: str
    platform: str
    first_seen_at: datetime
    last_seen_at: datetime
    trust_level: Literal["new", "known", "trusted"] = Field(
        description="new at first sight, known once seen again, trusted after a second factor"
    )


class CodeSentOut(BaseModel):
    channel: Literal["email", "phone", "mfa"]
    expires_in: int


class VerifiedOut(BaseModel):
    channel: Channel
    verified_at: datetime


class VerificationOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    kind: Literal["email", "phone", "kyc", "document", "biometric"]
    status: Literal["pending", "verified", "rejected"]
    created_at: datetime
    decided_at: datetime | None

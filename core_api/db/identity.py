"""Identity tables: users, their devices, login sessions with refresh tokens, one-time codes."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core_api.db.base import Base, UtcDateTime, id_column_type, new_id, utcnow
from core_api.db.verification import Verification

ACCOUNT_STATUSES = ("active", "restricted", "suspended", "banned", "closed")
DEVICE_TRUST = ("new", "known", "trusted")


class User(Base):
    __tablename__ = "users"
    __table_args__ = (
        CheckConstraint(
            "status IN ('active', 'restricted', 'suspended', 'banned', 'closed')", name="status"
        ),
    )

    id: Mapped[str] = mapped_column(id_column_type(), primary_key=True, default=new_id)
    email: Mapped[str] = mapped_column(String(254), unique=True)  # services.emails' normal form
    # Look-alike addresses share a skeleton; NULL only for rows older than the column whose
    # skeleton was already taken (the migration keeps the first and reports the rest).
    email_skeleton: Mapped[str | None] = mapped_column(String(254), unique=True, index=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    display_name: Mapped[str] = mapped_column(String(80))
    bio: Mapped[str] = mapped_column(Text, default="")
    phone: Mapped[str | None] = mapped_column(String(20))
    status: Mapped[str] = mapped_column(String(16), default="active")
    # Lower case, unique; NULL for accounts that never chose one.
    username: Mapped[str | None] = mapped_column(String(30), unique=True, index=True)
    avatar_url: Mapped[str | None] = mapped_column(String(2048))
    dob: Mapped[date | None] = mapped_column(Date)
    country: Mapped[str | None] = mapped_column(String(2))  # ISO 3166-1 alpha-2, as declared
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow, onupdate=utcnow)
    # Read when asked for (not with every request's user): e-mail, phone, KYC, ... checks.
    verifications: Mapped[list[Verification]] = relationship(
        cascade="all, delete-orphan", lazy="select", passive_deletes=True
    )

    # The e-mail and phone proofs live in ``verifications``; these keep their old names.
    @property
    def email_verified_at(self) -> datetime | None:
        return self._verified_at("email")

    @email_verified_at.setter
    def email_verified_at(self, value: datetime | None) -> None:
        self._set_verified("email", value)

    @property
    def phone_verified_at(self) -> datetime | None:
        return self._verified_at("phone")

    @phone_verified_at.setter
    def phone_verified_at(self, value: datetime | None) -> None:
        self._set_verified("phone", value)

    @property
    def verified(self) -> bool:
        return self.email_verified_at is not None or self.phone_verified_at is not None

    def _verified_at(self, kind: str) -> datetime | None:
        found = self.verification(kind)
        return found.decided_at if found is not None and found.status == "verified" else None

    def _set_verified(self, kind: str, value: datetime | None) -> None:
        """``None``: the proof no longer holds (a new phone number), pending a new one."""
        found = self.verification(kind)
        if found is None:
            if value is None:
                return
            found = Verification(kind=kind, created_at=value)
            self.verifications.append(found)
        found.status = "pending" if value is None else "verified"
        found.decided_at = value

    def verification(self, kind: str) -> Verification | None:
        return next((v for v in self.verifications if v.kind == kind), None)


class Device(Base):
    __tablename__ = "devices"
    __table_args__ = (
        UniqueConstraint("user_id", "fingerprint", name="uq_devices_user_print"),
        Index("ix_devices_fingerprint", "fingerprint"),  # the review console searches by device
        CheckConstraint("trust_level IN ('new', 'known', 'trusted')", name="trust_level"),
    )

    id: Mapped[str] = mapped_column(id_column_type(), primary_key=True, default=new_id)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    fingerprint: Mapped[str] = mapped_column(String(128))
    platform: Mapped[str] = mapped_column(String(16))
    # new at first sight, known once seen again, trusted after a second factor on it.
    trust_level: Mapped[str] = mapped_column(String(8), default="new")
    first_seen_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    last_ip: Mapped[str | None] = mapped_column(String(45))


class AuthSession(Base):
    """One login: its refresh tokens form a family, and its second-factor level lives here."""

    __tablename__ = "auth_sessions"

    id: Mapped[str] = mapped_column(id_column_type(), primary_key=True, default=new_id)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    device_id: Mapped[str | None] = mapped_column(ForeignKey("devices.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    mfa_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    revoked_reason: Mapped[str | None] = mapped_column(String(32))


class RefreshToken(Base):
    """Only a hash of the token is kept; a token is good for one rotation."""

    __tablename__ = "refresh_tokens"

    id: Mapped[str] = mapped_column(id_column_type(), primary_key=True, default=new_id)
    session_id: Mapped[str] = mapped_column(
        ForeignKey("auth_sessions.id", ondelete="CASCADE"), index=True
    )
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    issued_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class OneTimeCode(Base):
    __tablename__ = "one_time_codes"
    __table_args__ = (Index("ix_one_time_codes_user_purpose", "user_id", "purpose"),)

    id: Mapped[str] = mapped_column(id_column_type(), primary_key=True, default=new_id)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    purpose: Mapped[str] = mapped_column(String(16))  # email, phone, mfa
    destination: Mapped[str] = mapped_column(String(254))  # what the code proves control of
    code_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    consumed_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class DevMessage(Base):
    """What an e-mail or SMS provider would send, kept locally so development and tests read it."""

    __tablename__ = "dev_messages"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    channel: Mapped[str] = mapped_column(String(8))  # email, sms
    recipient: Mapped[str] = mapped_column(String(254), index=True)
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)

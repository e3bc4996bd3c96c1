"""Accounts for a simulated platform: core-database users (and their devices) with the very ids
the simulator gave them, so every user the lake, the scores and the review queue name is an
account ``/admin`` and the review console can act on. Plus the demo's staff accounts.

Seeded platform users cannot log in (their password hash is not a hash); their e-mail is
``sim-<id>@<their e-mail domain>``, their status and verification what the lake says. Seeding
adds what is missing and never touches an existing row, so it is safe to repeat.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from core_api.db.admin import RoleGrant
from core_api.db.identity import Device, User
from core_api.services.emails import email_skeleton
from core_api.services.security import hash_password

CHUNK = 1000
NO_LOGIN = "!seeded"  # not an argon2 hash: verify_password is always False


@dataclass(frozen=True)
class SeedDevice:
    fingerprint: str
    platform: str
    first_seen_at: datetime


@dataclass(frozen=True)
class SeedUser:
    id: str
    email_domain: str
    created_at: datetime
    status: str = "active"
    email_verified_at: datetime | None = None
    phone_verified_at: datetime | None = None
    devices: Sequence[SeedDevice] = field(default_factory=tuple)


def seed_users(db: Session, users: Iterable[SeedUser]) -> tuple[int, int]:
    """Insert the users (and devices) not yet in the database; (users, devices) added."""
    batch = list(users)
    added_users = added_devices = 0
    for start in range(0, len(batch), CHUNK):
        part = batch[start : start + CHUNK]
        have = set(db.scalars(select(User.id).where(User.id.in_([u.id for u in part]))))
        fresh = [u for u in part if u.id not in have]
        for u in fresh:
            email = f"sim-{u.id}@{u.email_domain}".lower()
            db.add(
                User(
                    id=u.id,
                    email=email,
                    email_skeleton=email_skeleton(email),
                    password_hash=NO_LOGIN,
                    display_name=f"sim {u.id[:8]}",
                    status=u.status,
                    email_verified_at=u.email_verified_at,
                    phone_verified_at=u.phone_verified_at,
                    created_at=u.created_at,
                    updated_at=u.created_at,
                )
            )
            added_users += 1
        db.flush()  # the users before their devices (no ORM relationship orders them)
        for u in fresh:
            seen: set[str] = set()
            for d in u.devices:
                if d.fingerprint in seen:
                    continue
                seen.add(d.fingerprint)
                db.add(
                    Device(
                        user_id=u.id,
                        fingerprint=d.fingerprint,
                        platform=d.platform,
                        first_seen_at=d.first_seen_at,
                        last_seen_at=d.first_seen_at,
                    )
                )
                added_devices += 1
        db.flush()
    db.commit()
    return added_users, added_devices


@dataclass(frozen=True)
class StaffAccount:
    email: str
    password: str
    role: str


def staff_account(db: Session, *, email: str, role: str, name: str) -> StaffAccount:
    """A verified, active account holding ``role``, with a fresh random password each call (a
    demo's staff: whoever runs the demo reads the password it prints)."""
    email = email.lower()
    password = secrets.token_urlsafe(12)
    found = db.scalar(select(User).where(User.email == email))
    if found is None:
        found = User(
            email=email,
            email_skeleton=email_skeleton(email),
            password_hash="",
            display_name=name,
            email_verified_at=datetime.now(UTC),
        )
        db.add(found)
    found.password_hash = hash_password(password)
    found.status = "active"
    db.flush()
    if db.get(RoleGrant, (found.id, role)) is None:
        db.add(RoleGrant(user_id=found.id, role=role))
    db.commit()
    return StaffAccount(email=email, password=password, role=role)

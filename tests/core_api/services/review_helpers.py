"""Small builders for the review service tests: users, staff, cases, straight in the database."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from sqlalchemy.orm import Session, sessionmaker

from core_api.db.admin import RoleGrant
from core_api.db.identity import Device, User
from core_api.db.review import ReviewCase

T0 = datetime(2026, 12, 1, 9, tzinfo=UTC)


def user(
    sessions: sessionmaker[Session], *, role: str | None = None, device: str | None = None
) -> str:
    with sessions() as db:
        row = User(
            email=f"u{uuid.uuid4().hex[:10]}@example.com",
            password_hash="x",
            display_name="Ada",
        )
        db.add(row)
        db.flush()
        if role:
            db.add(RoleGrant(user_id=row.id, role=role))
        if device:
            db.add(Device(user_id=row.id, fingerprint=device, platform="web"))
        db.commit()
        return row.id


def email_of(sessions: sessionmaker[Session], user_id: str) -> str:
    with sessions() as db:
        found = db.get(User, user_id)
        assert found is not None
        return found.email


def case(
    sessions: sessionmaker[Session],
    user_id: str,
    *,
    source: str = "score",
    risk: float = 0.5,
    amount: str = "10",
    age_h: float = 1.0,
    band: str = "high",
    reasons: str = "device shared by 5+ accounts",
) -> str:
    with sessions() as db:
        at = T0 - timedelta(hours=age_h)
        row = ReviewCase(
            user_id=user_id,
            source=source,
            risk=risk,
            band=band,
            reasons=reasons,
            amount_at_stake=Decimal(amount),
            status="open",
            opened_at=at,
            evidence_at=at,
            updated_at=at,
        )
        db.add(row)
        db.commit()
        return row.id

"""Login sessions: devices seen at login, refresh-token rotation with reuse detection.

A session owns a family of refresh tokens; each token is good for exactly one rotation. Presenting
a spent token means it was copied, so the whole session is revoked: the thief and the owner both
lose it, and the owner logs in again.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, cast

from sqlalchemy import CursorResult, select, update
from sqlalchemy.orm import Session

from core_api.db.base import new_id
from core_api.db.identity import AuthSession, Device, RefreshToken, User
from core_api.deps import Client
from core_api.events import SYSTEM_ACTOR_ID, EventType
from core_api.services.enforce import decision_context, enforce
from core_api.services.outbox import emit
from core_api.services.security import REFRESH_TTL, Tokens, verify_password
from serving.decide import Decider


@dataclass(frozen=True)
class Issued:
    access_token: str
    refresh_token: str
    session_id: str


class RefreshRejected(Exception):
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def record_device(db: Session, *, user: User, client: Client) -> Device | None:
    """The device behind a fingerprint header: new ones are added (and told to the pipeline)."""
    if client.device is None:
        return None
    now = datetime.now(UTC)
    device = db.scalar(
        select(Device).where(Device.user_id == user.id, Device.fingerprint == client.device)
    )
    if device is None:
        device = Device(user_id=user.id, fingerprint=client.device, platform=client.platform)
        db.add(device)
        emit(
            db,
            EventType.DEVICE_ADDED,
            actor_id=user.id,
            subject_id=user.id,
            payload={"device_id": client.device, "platform": client.platform},
            context=client.event_context(),
        )
    elif device.trust_level == "new":
        device.trust_level = "known"  # seen again
    device.last_seen_at, device.last_ip = now, client.ip
    db.flush()
    return device


def start_session(db: Session, tokens: Tokens, *, user: User, client: Client) -> Issued:
    device = record_device(db, user=user, client=client)
    auth_session = AuthSession(
        id=new_id(), user_id=user.id, device_id=device.id if device else None
    )
    db.add(auth_session)
    db.flush()
    emit(
        db,
        EventType.USER_LOGGED_IN,
        actor_id=user.id,
        subject_id=user.id,
        payload={"login_method": "password", "mfa_used": False, "session_id": auth_session.id},
        context=client.event_context(),
    )
    return _issue(db, tokens, auth_session)


def rotate(db: Session, tokens: Tokens, *, refresh_token: str, client: Client) -> Issued:
    """Trade a refresh token for a new pair; commits a revocation before raising on reuse."""
    now = datetime.now(UTC)
    spent = db.scalar(
        select(RefreshToken).where(
            RefreshToken.token_hash == tokens.hash_refresh_token(refresh_token)
        )
    )
    if spent is None:
        raise RefreshRejected("invalid_token")
    auth_session = db.get(AuthSession, spent.session_id)
    if auth_session is None or auth_session.revoked_at is not None:
        raise RefreshRejected("session_revoked")
    if spent.expires_at <= now:
        raise RefreshRejected("token_expired")
    # The conditional update is the claim: of two concurrent uses only one can match it.
    claimed = cast(
        CursorResult[Any],  # what an UPDATE without RETURNING gives (SQLAlchemy's advice)
        db.execute(
            update(RefreshToken)
            .where(RefreshToken.id == spent.id, RefreshToken.used_at.is_(None))
            .values(used_at=now)
        ),
    ).rowcount
    if claimed != 1:
        revoke(db, auth_session, reason="refresh_reuse")
        db.commit()
        raise RefreshRejected("token_reused")
    emit(
        db,
        EventType.USER_LOGGED_IN,
        actor_id=auth_session.user_id,
        subject_id=auth_session.user_id,
        payload={
            "login_method": "token_refresh",
            "mfa_used": auth_session.mfa_at is not None,
            "session_id": auth_session.id,
        },
        context=client.event_context(),
    )
    return _issue(db, tokens, auth_session)


def revoke(db: Session, auth_session: AuthSession, *, reason: str) -> None:
    auth_session.revoked_at = datetime.now(UTC)
    auth_session.revoked_reason = reason


def access_token(tokens: Tokens, auth_session: AuthSession) -> str:
    return tokens.access_token(
        user_id=auth_session.user_id, session_id=auth_session.id, mfa_at=auth_session.mfa_at
    )


def _issue(db: Session, tokens: Tokens, auth_session: AuthSession) -> Issued:
    refresh = tokens.new_refresh_token()
    db.add(
        RefreshToken(
            session_id=auth_session.id,
            token_hash=tokens.hash_refresh_token(refresh),
            expires_at=datetime.now(UTC) + REFRESH_TTL,
        )
    )
    return Issued(access_token(tokens, auth_session), refresh, auth_session.id)


def check_password(
    db: Session, decider: Decider, *, email: str, password: str, client: Client
) -> User | None:
    """The user whose e-mail and password these are, or None after a committed LOGIN_FAILED
    event. The login rate limits run first: they protect the password check. The account's
    status is the caller's to judge, after a correct password only (so a stranger cannot probe
    whether an address is banned)."""
    user = db.scalar(select(User).where(User.email == email))
    enforce(decider, "login", user_id=user.id if user else None, context=decision_context(client))
    if user is not None and verify_password(user.password_hash, password):
        return user
    subject = user.id if user else SYSTEM_ACTOR_ID
    emit(
        db,
        EventType.LOGIN_FAILED,
        actor_id=subject,
        subject_id=subject,
        payload={"failure_reason": "bad_password" if user else "unknown_user"},
        context=client.event_context(),
    )
    db.commit()
    return None

"""Verification of e-mail and phone, and the second factor that answers a step-up."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Literal

from fastapi import APIRouter, HTTPException, status
from pydantic import BaseModel
from sqlalchemy.orm import Session

from core_api.db.identity import Device, User
from core_api.db.verification import Verification
from core_api.deps import ClientDep, CurrentUser, Services, ServicesDep, SessionDep
from core_api.events import EventType
from core_api.schemas.identity import Channel, CodeIn, CodeSentOut, VerifiedOut
from core_api.services import auth, codes
from core_api.services.enforce import decision_context
from core_api.services.outbox import emit
from core_api.services.security import CODE_TTL

router = APIRouter(prefix="/identity", tags=["identity"])
_TTL_S = int(CODE_TTL.total_seconds())


class AccessOut(BaseModel):
    access_token: str
    token_type: Literal["bearer"] = "bearer"
    expires_in: int


def _conflict(reason: str) -> HTTPException:
    return HTTPException(status.HTTP_409_CONFLICT, detail={"reason": reason})


def _address(user: User, channel: Channel) -> str:
    address = user.email if channel == "email" else user.phone
    if address is None:
        raise _conflict("no_phone")
    return address


def _mfa_address(user: User) -> str:
    """Where a second factor goes: the verified phone, else the verified e-mail."""
    if user.phone and user.phone_verified_at:
        return user.phone
    if user.email_verified_at:
        return user.email
    raise _conflict("no_verified_factor")


def _send(db: Session, services: Services, *, user: User, purpose: str, to: str) -> None:
    try:
        codes.send_code(db, services.tokens, user=user, purpose=purpose, destination=to)
    except codes.CodeRejected as exc:
        retry = {"Retry-After": str(exc.retry_after_s)} if exc.retry_after_s else None
        raise HTTPException(
            status.HTTP_429_TOO_MANY_REQUESTS, {"reason": exc.reason}, headers=retry
        ) from None
    db.commit()


def _check(
    db: Session, services: Services, *, user: User, purpose: str, to: str, code: str
) -> None:
    tokens = services.tokens
    try:
        codes.check_code(db, tokens, user=user, purpose=purpose, destination=to, code=code)
    except codes.CodeRejected as exc:
        raise HTTPException(status.HTTP_400_BAD_REQUEST, {"reason": exc.reason}) from None


@router.post("/verify/{channel}", status_code=status.HTTP_202_ACCEPTED, response_model=CodeSentOut)
def send_verification(
    channel: Channel, me: CurrentUser, db: SessionDep, services: ServicesDep
) -> CodeSentOut:
    verified_at = me.user.email_verified_at if channel == "email" else me.user.phone_verified_at
    if verified_at is not None:
        raise _conflict("already_verified")
    to = _address(me.user, channel)
    if me.user.verification(channel) is None:  # a code on its way: the check is pending
        me.user.verifications.append(Verification(kind=channel, status="pending"))
    _send(db, services, user=me.user, purpose=channel, to=to)
    return CodeSentOut(channel=channel, expires_in=_TTL_S)


@router.post("/verify/{channel}/confirm", response_model=VerifiedOut)
def confirm_verification(
    channel: Channel,
    body: CodeIn,
    me: CurrentUser,
    db: SessionDep,
    services: ServicesDep,
    client: ClientDep,
) -> VerifiedOut:
    user = me.user
    _check(db, services, user=user, purpose=channel, to=_address(user, channel), code=body.code)
    now = datetime.now(UTC)
    if channel == "email":
        user.email_verified_at = now
    else:
        user.phone_verified_at = now
    emit(
        db,
        EventType.VERIFICATION_COMPLETED,
        actor_id=user.id,
        subject_id=user.id,
        payload={"verification": channel},
        context=client.event_context(),
    )
    db.commit()
    return VerifiedOut(channel=channel, verified_at=now)


@router.post(
    "/mfa/challenge",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=CodeSentOut,
    summary="Step-up 1/2: send a one-time code",
)
def mfa_challenge(me: CurrentUser, db: SessionDep, services: ServicesDep) -> CodeSentOut:
    """Answer a 401 `insufficient_user_authentication`: a code goes to the user's verified
    phone (else e-mail); then `POST /identity/mfa/verify`."""
    _send(db, services, user=me.user, purpose="mfa", to=_mfa_address(me.user))
    return CodeSentOut(channel="mfa", expires_in=_TTL_S)


@router.post(
    "/mfa/verify", response_model=AccessOut, summary="Step-up 2/2: the code for a fresh token"
)
def mfa_verify(
    body: CodeIn, me: CurrentUser, db: SessionDep, services: ServicesDep, client: ClientDep
) -> AccessOut:
    """A verified second factor raises this session's level for the rules' ``mfa.fresh_s``
    (the challenge's `max_age`): retry the refused request with the access token answered."""
    _check(db, services, user=me.user, purpose="mfa", to=_mfa_address(me.user), code=body.code)
    me.session.mfa_at = datetime.now(UTC)
    device = db.get(Device, me.session.device_id) if me.session.device_id else None
    if device is not None:
        device.trust_level = "trusted"  # its owner answered a second factor on it
    db.commit()
    # The user proved it is them on this device and from here: stop treating them as novel.
    services.decider.remember(me.user.id, decision_context(client, user=me.user))
    token = auth.access_token(services.tokens, me.session)
    return AccessOut(access_token=token, expires_in=int(services.tokens.access_ttl.total_seconds()))

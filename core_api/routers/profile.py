"""Profiles and devices: the caller's own account, other users' public profiles."""

from __future__ import annotations

from collections.abc import Sequence
from uuid import UUID

from fastapi import APIRouter, HTTPException, status
from sqlalchemy import select

from core_api.db.identity import Device, User
from core_api.db.verification import Verification
from core_api.deps import AnyStatusUser, ClientDep, CurrentUser, ServicesDep, SessionDep
from core_api.events import EventType
from core_api.schemas.identity import (
    AccountOut,
    DeviceOut,
    ProfileOut,
    ProfilePatch,
    VerificationOut,
)
from core_api.services.enforce import decision_context, enforce
from core_api.services.outbox import emit

router = APIRouter(prefix="/identity", tags=["identity"])


@router.get("/me", response_model=AccountOut)
def me(me: AnyStatusUser) -> User:
    # Open to locked accounts too: it is where they see their status. A plain ``def``: the
    # verification times are read from ``verifications`` (a query, so not on the event loop).
    return me.user


@router.get("/verifications", response_model=list[VerificationOut])
def verifications(me: AnyStatusUser) -> list[Verification]:
    """The caller's checks by kind (e-mail, phone, KYC, document, biometric) and where each
    stands: pending (a code sent, a document submitted), verified or rejected."""
    return sorted(me.user.verifications, key=lambda v: (v.created_at, v.kind))


@router.get("/profile/{user_id}", response_model=ProfileOut)
def profile(user_id: UUID, _me: CurrentUser, db: SessionDep) -> User:
    user = db.get(User, str(user_id))
    if user is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail={"reason": "no_such_user"})
    return user


@router.patch("/profile", response_model=AccountOut)
def update_profile(
    body: ProfilePatch, me: CurrentUser, db: SessionDep, services: ServicesDep, client: ClientDep
) -> User:
    user = me.user
    enforce(
        services.decider,
        "profile_update",
        user_id=user.id,
        context=decision_context(client, user=user, auth_session=me.session),
    )
    changes = body.model_dump(exclude_unset=True)
    for field in ("display_name", "bio"):
        if changes.get(field) is not None:
            setattr(user, field, changes[field])
    name = changes.get("username")
    if name and name != user.username:
        if db.scalar(select(User.id).where(User.username == name)):
            raise HTTPException(status.HTTP_409_CONFLICT, detail={"reason": "username_taken"})
        user.username = name
    for field in ("avatar_url", "dob", "country"):  # null clears these
        if field in changes:
            setattr(user, field, changes[field])
    if "phone" in changes and changes["phone"] != user.phone:
        user.phone, user.phone_verified_at = changes["phone"], None
        # The contract has no event for name or bio edits; a new phone is a credential change.
        emit(
            db,
            EventType.CREDENTIAL_CHANGED,
            actor_id=user.id,
            subject_id=user.id,
            payload={"credential": "phone"},
            context=client.event_context(),
        )
    db.commit()
    return user


@router.get("/devices", response_model=list[DeviceOut])
def devices(me: CurrentUser, db: SessionDep) -> Sequence[Device]:
    return db.scalars(
        select(Device).where(Device.user_id == me.user.id).order_by(Device.first_seen_at)
    ).all()

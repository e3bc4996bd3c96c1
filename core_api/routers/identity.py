"""Accounts and credentials: register, log in, refresh, log out."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, status
from sqlalchemy import select

from core_api.db.identity import AuthSession, User
from core_api.deps import LOCKED, AnyStatusUser, ClientDep, ServicesDep, SessionDep
from core_api.events import EventType
from core_api.schemas.identity import AccountOut, LoginIn, RefreshIn, RegisterIn, TokensOut
from core_api.services import auth
from core_api.services.emails import email_skeleton
from core_api.services.enforce import decision_context, enforce
from core_api.services.outbox import emit
from core_api.services.security import hash_password, needs_rehash

router = APIRouter(prefix="/identity", tags=["identity"])
_BAD_LOGIN = HTTPException(
    status.HTTP_401_UNAUTHORIZED,
    detail={"reason": "invalid_credentials"},
    headers={"WWW-Authenticate": "Bearer"},
)


@router.post("/register", status_code=status.HTTP_201_CREATED, response_model=AccountOut)
def register(body: RegisterIn, db: SessionDep, services: ServicesDep, client: ClientDep) -> User:
    enforce(services.decider, "register", user_id=None, context=decision_context(client))
    if db.scalar(select(User.id).where(User.email == body.email)):
        raise HTTPException(status.HTTP_409_CONFLICT, detail={"reason": "email_taken"})
    skeleton = email_skeleton(body.email)
    if db.scalar(select(User.id).where(User.email_skeleton == skeleton)):
        # A look-alike of an existing address (Cyrillic "а" for "a", "rn" for "m"): one person
        # could not tell the two apart, so they may not be two accounts.
        raise HTTPException(status.HTTP_409_CONFLICT, detail={"reason": "email_confusable"})
    if body.username and db.scalar(select(User.id).where(User.username == body.username)):
        raise HTTPException(status.HTTP_409_CONFLICT, detail={"reason": "username_taken"})
    referrer = str(body.referrer_id) if body.referrer_id else None
    if referrer and db.get(User, referrer) is None:
        raise HTTPException(
            status.HTTP_422_UNPROCESSABLE_CONTENT, detail={"reason": "unknown_referrer"}
        )
    user = User(
        email=body.email,
        email_skeleton=skeleton,
        password_hash=hash_password(body.password),
        display_name=body.display_name,
        bio="",
        username=body.username,
        country=body.country,
        dob=body.dob,
    )
    db.add(user)
    db.flush()
    emit(
        db,
        EventType.USER_REGISTERED,
        actor_id=user.id,
        subject_id=user.id,
        payload={
            "email_domain": body.email.rsplit("@", 1)[1],
            "signup_channel": client.platform,
            "referrer_id": referrer,
            "declared_country": body.country,
        },
        context=client.event_context(),
    )
    db.commit()
    return user


@router.post("/login", response_model=TokensOut)
def login(body: LoginIn, db: SessionDep, services: ServicesDep, client: ClientDep) -> TokensOut:
    user = auth.check_password(
        db, services.decider, email=body.email, password=body.password, client=client
    )
    if user is None:
        raise _BAD_LOGIN
    # Suspended and banned accounts get a session all the same: ``CurrentUser`` refuses it
    # everywhere but the appeal, which is how such a user asks to be let back in.
    if user.status == "closed":
        emit(
            db,
            EventType.LOGIN_FAILED,
            actor_id=user.id,
            subject_id=user.id,
            payload={"failure_reason": "locked"},
            context=client.event_context(),
        )
        db.commit()
        raise HTTPException(status.HTTP_403_FORBIDDEN, detail={"reason": f"account_{user.status}"})
    if needs_rehash(user.password_hash):
        user.password_hash = hash_password(body.password)
    issued = auth.start_session(db, services.tokens, user=user, client=client)
    db.commit()
    return _tokens_out(issued, services, appeal_only=user.status in LOCKED)


@router.post("/refresh", response_model=TokensOut)
def refresh(body: RefreshIn, db: SessionDep, services: ServicesDep, client: ClientDep) -> TokensOut:
    try:
        issued = auth.rotate(db, services.tokens, refresh_token=body.refresh_token, client=client)
    except auth.RefreshRejected as exc:
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED,
            detail={"reason": exc.reason},
            headers={"WWW-Authenticate": 'Bearer error="invalid_token"'},
        ) from None
    db.commit()
    user = db.scalar(
        select(User)
        .join(AuthSession, AuthSession.user_id == User.id)
        .where(AuthSession.id == issued.session_id)
    )
    return _tokens_out(issued, services, appeal_only=bool(user and user.status in LOCKED))


@router.post("/logout", status_code=status.HTTP_204_NO_CONTENT)
def logout(me: AnyStatusUser, db: SessionDep) -> None:
    auth.revoke(db, me.session, reason="logout")
    db.commit()


def _tokens_out(
    issued: auth.Issued, services: ServicesDep, *, appeal_only: bool = False
) -> TokensOut:
    return TokensOut(
        access_token=issued.access_token,
        refresh_token=issued.refresh_token,
        expires_in=int(services.tokens.access_ttl.total_seconds()),
        scope="appeal" if appeal_only else "full",
    )

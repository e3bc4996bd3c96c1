"""Checks the social, trust, collaboration and admin routers share."""

from __future__ import annotations

from fastapi import HTTPException, status
from sqlalchemy import exists, select
from sqlalchemy.orm import Session

from core_api.db.admin import RoleGrant
from core_api.db.identity import User
from core_api.deps import LOCKED, Client, Principal, Services
from core_api.services.enforce import decision_context, enforce


def act(services: Services, client: Client, *, me: Principal, action: str) -> None:
    """Ask the decision function about ``action``; it sees the caller's account status."""
    context = decision_context(client, user=me.user, auth_session=me.session)
    enforce(services.decider, action, user_id=me.user.id, context=context)


def require_active(me: Principal) -> None:
    """For writes the rules' action table does not name (collaboration, admin): a locked
    account is refused the same way the decision function refuses it."""
    if me.user.status in LOCKED:
        raise HTTPException(
            status.HTTP_403_FORBIDDEN, detail={"reason": f"account_{me.user.status}"}
        )


def is_admin(db: Session, user_id: str) -> bool:
    granted = select(RoleGrant).where(RoleGrant.user_id == user_id, RoleGrant.role == "admin")
    return bool(db.scalar(select(exists(granted))))


def not_found(reason: str) -> HTTPException:
    return HTTPException(status.HTTP_404_NOT_FOUND, detail={"reason": reason})


def forbidden(reason: str) -> HTTPException:
    return HTTPException(status.HTTP_403_FORBIDDEN, detail={"reason": reason})


def conflict(reason: str) -> HTTPException:
    return HTTPException(status.HTTP_409_CONFLICT, detail={"reason": reason})


def invalid(reason: str) -> HTTPException:
    return HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, detail={"reason": reason})


def existing_user(db: Session, user_id: str) -> User:
    user = db.get(User, user_id)
    if user is None:
        raise not_found("no_such_user")
    return user

"""Access control and account status: the seed's Access Control Service, kept small.

Roles, granted by an admin: ``admin`` (this router, and the review console with reversals),
``senior_analyst`` (the review console, reversals included) and ``analyst`` (the review console:
queue, claim, decide; never on their own account). The first admin comes from the
``admin_emails`` setting (``VOUCH_ADMIN_EMAILS``, comma-separated): a signed-in user whose
*verified* e-mail is listed may claim the role with ``POST /admin/bootstrap``. No CLI and no
"first user wins" race; verification stops anyone who registers a listed address without owning it.

Status changes (suspend, ban, reinstate) write an append-only audit row (who, when, why,
before and after) and an ACCOUNT_STATUS_CHANGED event in the same transaction. The decision
function then denies the account every action but ``appeal``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Depends, Response, status
from sqlalchemy import select
from sqlalchemy.orm import Session

from core_api.db.admin import Appeal, RoleGrant, StatusAudit
from core_api.db.identity import User
from core_api.deps import (
    AnyStatusUser,
    ClientDep,
    CurrentUser,
    Principal,
    ServicesDep,
    SessionDep,
)
from core_api.schemas.admin import (
    AppealIn,
    AppealOut,
    AuditOut,
    RoleIn,
    RoleOut,
    StaffRole,
    StatusIn,
)
from core_api.schemas.identity import AccountOut
from core_api.services import accounts, notices
from core_api.services.guards import (
    act,
    conflict,
    existing_user,
    forbidden,
    is_admin,
    not_found,
    require_active,
)
from core_api.services.review_decide import set_override

router = APIRouter(prefix="/admin", tags=["admin"])


def require_admin(me: CurrentUser, db: SessionDep) -> Principal:
    require_active(me)
    if not is_admin(db, me.user.id):
        raise forbidden("admin_required")
    return me


AdminUser = Annotated[Principal, Depends(require_admin)]


def bootstrap_emails(raw: str) -> frozenset[str]:
    return frozenset(e.strip().lower() for e in raw.split(",") if e.strip())


def _grant(
    db: Session, user_id: str, *, by: str | None, role: str = "admin"
) -> tuple[RoleGrant, bool]:
    found = db.get(RoleGrant, (user_id, role))
    if found is not None:
        return found, False
    grant = RoleGrant(user_id=user_id, role=role, granted_by=by)
    db.add(grant)
    db.commit()
    return grant, True


@router.post("/bootstrap", response_model=RoleOut)
def bootstrap(
    me: CurrentUser, db: SessionDep, services: ServicesDep, response: Response
) -> RoleGrant:
    require_active(me)
    allowed = bootstrap_emails(services.settings.admin_emails)
    if me.user.email not in allowed or me.user.email_verified_at is None:
        raise forbidden("not_a_bootstrap_admin")
    grant, made = _grant(db, me.user.id, by=None)
    response.status_code = status.HTTP_201_CREATED if made else status.HTTP_200_OK
    return grant


@router.get("/roles", response_model=list[RoleOut])
def roles(_admin: AdminUser, db: SessionDep) -> Sequence[RoleGrant]:
    return db.scalars(select(RoleGrant).order_by(RoleGrant.granted_at, RoleGrant.user_id)).all()


@router.put("/roles/{user_id}", response_model=RoleOut)
def grant_role(
    user_id: UUID, body: RoleIn, admin: AdminUser, db: SessionDep, response: Response
) -> RoleGrant:
    target = existing_user(db, str(user_id))
    grant, made = _grant(db, target.id, by=admin.user.id, role=body.role)
    response.status_code = status.HTTP_201_CREATED if made else status.HTTP_200_OK
    return grant


@router.delete("/roles/{user_id}/{role}", status_code=status.HTTP_204_NO_CONTENT)
def revoke_role(user_id: UUID, role: StaffRole, admin: AdminUser, db: SessionDep) -> None:
    if str(user_id) == admin.user.id:
        raise conflict("cannot_revoke_self")  # so at least one admin always remains
    found = db.get(RoleGrant, (str(user_id), role))
    if found is None:
        raise not_found("no_such_grant")
    db.delete(found)
    db.commit()


@router.post("/users/{user_id}/status", response_model=AccountOut)
def change_status(
    user_id: UUID,
    body: StatusIn,
    admin: AdminUser,
    db: SessionDep,
    client: ClientDep,
    services: ServicesDep,
) -> User:
    target = existing_user(db, str(user_id))
    if target.id == admin.user.id:
        raise conflict("cannot_change_own_status")
    if target.status == body.status:
        raise conflict("no_change")
    accounts.change_status(
        db,
        target,
        actor_id=admin.user.id,
        status=body.status,
        reason_code=body.reason_code,
        note=body.note,
        context=client.event_context(),
    )
    notices.status_changed(db, target.id, status=body.status)
    db.commit()
    if body.status == "active":
        # A reinstated account sheds an analyst's deny override too (else it stays refused).
        set_override(services.store, target.id, action=None)
    return target


@router.get("/users/{user_id}/audit", response_model=list[AuditOut])
def audit(user_id: UUID, _admin: AdminUser, db: SessionDep) -> Sequence[StatusAudit]:
    query = select(StatusAudit).where(StatusAudit.user_id == str(user_id))
    return db.scalars(query.order_by(StatusAudit.at, StatusAudit.id)).all()


@router.post("/appeals", status_code=status.HTTP_201_CREATED, response_model=AppealOut)
def appeal(
    body: AppealIn, me: AnyStatusUser, db: SessionDep, services: ServicesDep, client: ClientDep
) -> Appeal:
    # The one action a suspended or banned account keeps (``allowed_when_banned`` in the rules).
    act(services, client, me=me, action="appeal")
    if me.user.status not in ("suspended", "banned", "restricted"):
        raise conflict("nothing_to_appeal")
    row = Appeal(user_id=me.user.id, account_status=me.user.status, body=body.body)
    db.add(row)
    db.commit()
    return row


@router.get("/appeals", response_model=list[AppealOut])
def appeals(_admin: AdminUser, db: SessionDep) -> Sequence[Appeal]:
    return db.scalars(select(Appeal).order_by(Appeal.created_at, Appeal.id)).all()

"""A linked account's page: where a node of the graph leads. A user with a case opens that
case; a user without one gets a read-only page (the case page's who, risk, links and timeline)
with one action, "Open a case", after which the usual decisions apply."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from core_api.console import auth, case_view
from core_api.console.web import PREFIX, Console, ConsoleForm, TimelineCursor, page
from core_api.db.identity import User
from core_api.deps import ServicesDep, SessionDep
from core_api.services import review

router = APIRouter()


def _user(db: SessionDep, user_id: UUID) -> User:
    user = db.get(User, str(user_id))
    if user is None:
        raise auth.Refused("no_such_user", status=404)
    return user


@router.get("/users/{user_id}", response_class=HTMLResponse)
def user_page(
    request: Request, user_id: UUID, me: Console, db: SessionDep, services: ServicesDep
) -> Response:
    found = case_view.case_of_user(db, str(user_id))
    if found is not None:
        return RedirectResponse(f"{PREFIX}/cases/{found}", status_code=303)
    user = _user(db, user_id)
    base = f"{PREFIX}/users/{user.id}"
    context = case_view.user_context(
        db, services.settings, user=user, risk=None, timeline_base=base
    )
    return page(request, "user.html", context={**context, "me": me})


@router.get("/users/{user_id}/timeline", response_class=HTMLResponse)
def user_timeline(
    request: Request,
    user_id: UUID,
    me: Console,
    db: SessionDep,
    services: ServicesDep,
    before: TimelineCursor,
) -> Response:
    user = _user(db, user_id)
    context = case_view.timeline_page(
        db, services.settings, base=f"{PREFIX}/users/{user.id}", user_id=user.id, before=before
    )
    return page(request, "_timeline.html", context={"me": me, **context})


@router.post("/users/{user_id}/cases")
def open_case(
    user_id: UUID,
    me: ConsoleForm,
    db: SessionDep,
    services: ServicesDep,
    note: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    """Open a case on this user, claimed by the analyst: then decide it like any other."""
    opened = review.open_case(
        db, str(user_id), analyst_id=me.user.id, note=note, store=services.store
    )
    return RedirectResponse(f"{PREFIX}/cases/{opened.id}?done=opened", status_code=303)

"""Signing in and out of the console, and sending the second factor a ban needs."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from markupsafe import escape

from core_api.console import auth
from core_api.console.web import PREFIX, ConsoleForm, page
from core_api.deps import LOCKED, ClientDep, ServicesDep, SessionDep
from core_api.services import auth as sessions
from core_api.services import codes

router = APIRouter()


def _next(target: str | None) -> str:
    # Only a path inside the console: an open redirect would hand a signed-in analyst to anyone.
    if target and target.startswith(f"{PREFIX}/") and "//" not in target and "\\" not in target:
        return target
    return f"{PREFIX}/queue"


def _login_form(
    request: Request, *, next_: str | None, error: str | None = None, status: int = 200
) -> Response:
    token = auth.new_login_csrf()
    context = {"csrf": token, "next": _next(next_), "error": error, "me": None}
    response = page(request, "login.html", context=context, status=status)
    secure = request.app.state.services.settings.console_secure_cookie
    response.set_cookie(
        auth.LOGIN_CSRF_COOKIE,
        token,
        max_age=1800,
        path=f"{PREFIX}/login",
        httponly=True,
        samesite="strict",
        secure=secure,
    )
    return response


@router.get("/login", response_class=HTMLResponse)
def login_page(request: Request, next: str | None = None) -> Response:
    return _login_form(request, next_=next)


@router.post("/login", response_class=HTMLResponse)
def login(
    request: Request,
    db: SessionDep,
    services: ServicesDep,
    client: ClientDep,
    email: Annotated[str, Form(max_length=254)] = "",
    password: Annotated[str, Form(max_length=1024)] = "",
    csrf_token: Annotated[str, Form(max_length=128)] = "",
    next: Annotated[str, Form(max_length=512)] = "",
) -> Response:
    if not auth.login_csrf_ok(request, csrf_token):
        raise auth.Refused("csrf_failed")
    # The API's login limits and failure events apply here too.
    user = sessions.check_password(
        db, services.decider, email=email.strip().lower(), password=password, client=client
    )
    if user is None:
        return _login_form(request, next_=next, error="Wrong e-mail or password.", status=401)
    # A console session only for staff in good standing: nobody else gets a cookie at all.
    if user.status in LOCKED or user.status == "closed" or not auth.console_roles(db, user.id):
        raise auth.Refused("analyst_required")
    issued = sessions.start_session(db, services.tokens, user=user, client=client)
    db.commit()
    response = RedirectResponse(_next(next), status_code=303)
    response.set_cookie(
        auth.COOKIE,
        auth.cookie_value(request, services, session_id=issued.session_id),
        max_age=int(auth.SESSION_TTL.total_seconds()),
        path=PREFIX,
        httponly=True,
        samesite="strict",
        secure=services.settings.console_secure_cookie,
    )
    response.delete_cookie(auth.LOGIN_CSRF_COOKIE, path=f"{PREFIX}/login")
    return response


@router.post("/logout")
def logout(me: ConsoleForm, db: SessionDep) -> Response:
    sessions.revoke(db, me.session, reason="logout")  # the request's own DB session loaded it
    db.commit()
    response = RedirectResponse(f"{PREFIX}/login", status_code=303)
    response.delete_cookie(auth.COOKIE, path=PREFIX)
    return response


@router.post("/mfa", response_class=HTMLResponse)
def send_mfa_code(me: ConsoleForm, db: SessionDep, services: ServicesDep) -> Response:
    """Send a one-time code to the analyst's verified phone or e-mail (as ``/identity/mfa``)."""
    to = auth.mfa_address(me.user)
    if to is None:
        raise auth.Refused("no_verified_factor", status=409)
    try:
        codes.send_code(db, services.tokens, user=me.user, purpose="mfa", destination=to)
    except codes.CodeRejected as exc:
        raise auth.Refused(exc.reason, status=429) from None
    db.commit()
    shown = to[:2] + "…" + to[-6:] if len(to) > 8 else "…"
    said = escape(f"Code sent to {shown}. It lasts 10 minutes.")
    return HTMLResponse(f'<p class="sent" role="status">{said}</p>')

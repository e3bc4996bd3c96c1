"""The console's web plumbing: templates, the signed-in analyst as a dependency, CSRF on every
form, the answers to refusals, and the headers every page carries."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import Depends, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates
from markupsafe import escape
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from core_api.console.auth import Analyst, NotSignedIn, Refused, check_csrf, signed_in
from core_api.deps import ServicesDep, SessionDep
from core_api.services.review import ReviewError

HERE = Path(__file__).parent
PREFIX = "/review"
templates = Jinja2Templates(directory=HERE / "templates")


def _ago(value: datetime | None) -> str:
    if value is None:
        return "—"
    at = value.replace(tzinfo=UTC) if value.tzinfo is None else value
    seconds = max(0.0, (datetime.now(UTC) - at).total_seconds())
    if seconds < 60:
        return "<1 min"
    if seconds < 3600:
        return f"{seconds / 60:.0f} min"
    if seconds < 86400:
        return f"{seconds / 3600:.0f} h"
    return f"{seconds / 86400:.0f} d"


def _duration(seconds: float | None) -> str:
    if seconds is None:
        return "—"
    return _ago(datetime.fromtimestamp(datetime.now(UTC).timestamp() - seconds, UTC))


def _money(value: Decimal | float | None) -> str:
    return "—" if value is None else f"{Decimal(value):,.2f}"


def _when(value: datetime | None) -> str:
    return "—" if value is None else f"{value:%Y-%m-%d %H:%M} UTC"


templates.env.filters.update(ago=_ago, duration=_duration, money=_money, when=_when)


def page(request: Request, name: str, *, context: dict[str, Any], status: int = 200) -> Response:
    return templates.TemplateResponse(request, name, context, status_code=status)


def _console_user(request: Request, services: ServicesDep, db: SessionDep) -> Analyst:
    return signed_in(request, services, db=db)


Console = Annotated[Analyst, Depends(_console_user)]


async def with_csrf(request: Request, me: Console) -> Analyst:
    await check_csrf(request, me)
    return me


# Every state-changing route takes this instead of ``Console``: no form without its token.
ConsoleForm = Annotated[Analyst, Depends(with_csrf)]


def _timeline_cursor(
    before_at: datetime, before_key: Annotated[str, Query(min_length=1, max_length=64)]
) -> tuple[datetime, str]:
    # A cursor typed in by hand may lack its zone; the timeline's times are all UTC.
    return (before_at if before_at.tzinfo else before_at.replace(tzinfo=UTC)), before_key


# The keyset cursor of a timeline's next page (the query parameters the "older" link carries).
TimelineCursor = Annotated[tuple[datetime, str], Depends(_timeline_cursor)]


def _wants_page(request: Request) -> bool:
    return request.method in ("GET", "HEAD") and "hx-request" not in request.headers


async def _not_signed_in(request: Request, _exc: Exception) -> Response:
    if _wants_page(request):
        target = quote(request.url.path + (f"?{request.url.query}" if request.url.query else ""))
        return RedirectResponse(f"{PREFIX}/login?next={target}", status_code=303)
    return _refusal(request, "not_signed_in", 403)


async def _refused(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, Refused)
    return _refusal(request, exc.reason, exc.status)


async def _review_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ReviewError)
    return _refusal(request, exc.code, exc.status)


_SAID = {
    "not_signed_in": "Sign in to the review console first.",
    "analyst_required": "This account may not use the review console.",
    "csrf_failed": "The form had expired or did not come from the console. Reload and retry.",
    "own_account": "Analysts cannot act on their own account.",
    "already_claimed": "Another analyst holds this case.",
    "mfa_required": "A ban needs a fresh second factor: send a code and enter it.",
}


def _refusal(request: Request, reason: str, status: int) -> Response:
    said = _SAID.get(reason, reason.replace("_", " ").capitalize() + ".")
    if "hx-request" in request.headers:
        # A fragment for the element that asked; htmx-style callers swap it in place.
        body = f'<p class="refusal" role="alert" data-reason="{escape(reason)}">{escape(said)}</p>'
        return HTMLResponse(body, status_code=status)
    context = {"reason": reason, "said": said, "status": status, "me": None}
    return page(request, "refusal.html", context=context, status=status)


_HEADERS = [
    # Inline SVG needs no inline style or script: presentation attributes are not styles.
    (
        b"content-security-policy",
        b"default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
        b"form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
    ),
    (b"x-frame-options", b"DENY"),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"same-origin"),
    (b"cache-control", b"no-store"),
]


class ConsoleHeaders:
    """Adds the console's security headers to every answer under ``/review``."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope["path"].startswith(PREFIX):
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                names = {name for name, _ in message.get("headers", [])}
                extra = [(n, v) for n, v in _HEADERS if n not in names]
                message["headers"] = [*message.get("headers", []), *extra]
            await send(message)

        await self.app(scope, receive, send_with_headers)


HANDLERS = {NotSignedIn: _not_signed_in, Refused: _refused, ReviewError: _review_error}

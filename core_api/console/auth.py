"""Console sign-in: a cookie that names an ordinary login session, and the CSRF tokens.

The cookie holds an ``auth_sessions`` id and an HMAC of it (a key derived from the API's
signing key), so logout and revocation work exactly as for the API's bearer tokens: every
request reads the session row and refuses a revoked one. Every form carries a CSRF token bound
to the session (an HMAC of its id); the login form, which has no session yet, uses a
double-submit cookie instead. A decision that bans needs a second factor no older than
``MFA_FRESH``.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from fastapi import Request
from sqlalchemy import select
from sqlalchemy.orm import Session

from core_api.db.identity import AuthSession, User
from core_api.deps import LOCKED, Services
from core_api.services import review
from core_api.services.security import load_secret

COOKIE = "vouch_review"
LOGIN_CSRF_COOKIE = "vouch_review_login"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "x-csrf-token"
# An analyst's working day: past it the console asks for the password again.
SESSION_TTL = timedelta(hours=10)
MFA_FRESH = timedelta(minutes=5)


class NotSignedIn(Exception):
    """No valid console session: pages send the browser to the login form, forms get 403."""


class Refused(Exception):
    """Signed in, but not allowed (not staff, bad CSRF token, own account ...)."""

    def __init__(self, reason: str, *, status: int = 403) -> None:
        super().__init__(reason)
        self.reason, self.status = reason, status


@dataclass(frozen=True)
class Analyst:
    user: User
    session: AuthSession
    roles: frozenset[str]
    csrf: str

    @property
    def mfa_fresh(self) -> bool:
        at = self.session.mfa_at
        if at is None:
            return False
        at = at.replace(tzinfo=UTC) if at.tzinfo is None else at
        return datetime.now(UTC) - at <= MFA_FRESH


def _key(request: Request, services: Services) -> bytes:
    # Derived once per app from the signing key, so the cookie and CSRF MACs differ from the
    # key that signs access tokens and one-time codes.
    key: bytes | None = getattr(request.app.state, "console_key", None)
    if key is None:
        key = hmac.new(load_secret(services.settings), b"vouch-console/1", "sha256").digest()
        request.app.state.console_key = key
    return key


def _mac(key: bytes, purpose: str, value: str) -> str:
    return hmac.new(key, f"{purpose}:{value}".encode(), hashlib.sha256).hexdigest()


def cookie_value(request: Request, services: Services, *, session_id: str) -> str:
    return f"{session_id}.{_mac(_key(request, services), 'cookie', session_id)}"


def csrf_for(request: Request, services: Services, *, session_id: str) -> str:
    return _mac(_key(request, services), "csrf", session_id)


def console_roles(db: Session, user_id: str) -> frozenset[str]:
    """The staff roles that open the console (the review service's ``ANALYST_ROLES``)."""
    return review.roles_of(db, user_id) & review.ANALYST_ROLES


def _aware(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value


def signed_in(request: Request, services: Services, *, db: Session) -> Analyst:
    """The console's caller, or :class:`NotSignedIn` / :class:`Refused`."""
    raw = request.cookies.get(COOKIE, "")
    session_id, _, mac = raw.partition(".")
    if not session_id or not hmac.compare_digest(
        mac, _mac(_key(request, services), "cookie", session_id)
    ):
        raise NotSignedIn
    row = db.execute(
        select(AuthSession, User)
        .join(User, User.id == AuthSession.user_id)
        .where(AuthSession.id == session_id)
    ).first()
    if row is None:
        raise NotSignedIn
    auth_session, user = row
    expired = datetime.now(UTC) - _aware(auth_session.created_at) > SESSION_TTL
    if auth_session.revoked_at is not None or expired:
        raise NotSignedIn
    if user.status in LOCKED:
        raise Refused(f"account_{user.status}")
    roles = console_roles(db, user.id)
    if not roles:
        raise Refused("analyst_required")  # a role revoked after login ends console access
    csrf = csrf_for(request, services, session_id=auth_session.id)
    return Analyst(user=user, session=auth_session, roles=roles, csrf=csrf)


async def check_csrf(request: Request, analyst: Analyst) -> None:
    """A form field or (for script requests) a header must carry the session's token."""
    sent = request.headers.get(CSRF_HEADER)
    if sent is None:
        form = await request.form()  # Starlette caches it: the route's Form fields still read
        field = form.get(CSRF_FIELD)
        sent = field if isinstance(field, str) else None
    if not sent or not hmac.compare_digest(sent, analyst.csrf):
        raise Refused("csrf_failed")


def new_login_csrf() -> str:
    return secrets.token_urlsafe(24)


def login_csrf_ok(request: Request, sent: str) -> bool:
    cookie = request.cookies.get(LOGIN_CSRF_COOKIE, "")
    return bool(cookie) and hmac.compare_digest(cookie, sent)


def mfa_address(user: User) -> str | None:
    """Where a second factor goes (as ``/identity/mfa``): the verified phone, else e-mail."""
    if user.phone and user.phone_verified_at:
        return user.phone
    if user.email_verified_at:
        return user.email
    return None

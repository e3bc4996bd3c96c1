"""Request dependencies: the app's services, a DB session, the client's context, the caller.

Everything expensive (engine, decider, signing key) is built once per app in ``core_api.app`` and
reached through ``ServicesDep``; handlers declare what they need with the ``Annotated`` aliases.

Dependencies that do no I/O are ``async def``: FastAPI runs a plain ``def`` dependency in its
thread pool, and each such hop costs ~60 us of latency and ~0.14 ms of CPU here (a bare FastAPI
route under uvicorn: 0.17 ms of server CPU as ``async def``, 0.45 ms as ``def``, which hops
twice). Those that touch the database stay ``def`` (they block).
"""

from __future__ import annotations

import ipaddress
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Annotated, Any

import anyio
from fastapi import Depends, Header, HTTPException, Request, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy import Engine, bindparam, select
from sqlalchemy.orm import Session, sessionmaker
from starlette.concurrency import run_in_threadpool

from core_api.db.engine import REQUEST_SLOTS
from core_api.db.identity import AuthSession, User
from core_api.events.fields import TOKEN_RE
from core_api.events.payloads import Platform
from core_api.services.outbox import EventSink
from core_api.services.security import AccessClaims, InvalidToken, Tokens
from serving.decide import Decider
from serving.feed import RedisFeed, SqliteFeed
from serving.store import Store
from settings import Settings


@dataclass(frozen=True)
class Services:
    settings: Settings
    engine: Engine
    sessions: sessionmaker[Session]
    store: Store
    decider: Decider
    tokens: Tokens
    sink: EventSink
    feed: RedisFeed | SqliteFeed  # social timelines (``serving.feed``), one pool per app
    # Requests that may hold a database session at once (see ``core_api.db.engine``).
    db_slots: anyio.Semaphore = field(default_factory=lambda: anyio.Semaphore(REQUEST_SLOTS))


async def get_services(request: Request) -> Services:
    return request.app.state.services


ServicesDep = Annotated[Services, Depends(get_services)]


async def get_session(services: ServicesDep) -> AsyncIterator[Session]:
    # Handlers commit explicitly (their events with them); anything uncommitted rolls back here.
    # Making a session does no I/O (it connects on first use). Closing one that still holds a
    # transaction rolls it back: a round trip on PostgreSQL, so that goes to the thread pool;
    # SQLite's is an in-process call (a read opened no transaction there: a no-op).
    # A request waits here, in the event loop and holding no thread, for one of the database
    # slots: past them the connection pool could run dry and deadlock with the thread pool.
    async with services.db_slots:
        session = services.sessions()
        try:
            yield session
        finally:
            if session.in_transaction() and services.engine.dialect.name != "sqlite":
                await run_in_threadpool(session.close)
            else:
                session.close()


SessionDep = Annotated[Session, Depends(get_session)]


@dataclass(frozen=True)
class Client:
    """Who is on the other end of the request, as far as the request says."""

    ip: str | None
    device: str | None
    platform: str
    user_agent: str | None

    def event_context(self) -> dict[str, Any]:
        return {"ip": self.ip, "device_id": self.device, "user_agent": self.user_agent}


def _ip(request: Request) -> str | None:
    host = request.client.host if request.client else None
    try:
        return str(ipaddress.ip_address(host)) if host else None
    except ValueError:
        return None  # e.g. a test client or a unix socket: no address to rate-limit on


async def get_client(
    request: Request,
    x_device_fingerprint: Annotated[
        str | None,
        Header(
            pattern=TOKEN_RE,
            description="A stable, opaque id of the client's device. The access rules tell a "
            "known device from a new one by it (a new device asks for a second factor on "
            "critical actions), and the risk model links accounts that share one.",
        ),
    ] = None,
    x_client_platform: Annotated[Platform, Header()] = "web",
    user_agent: Annotated[str | None, Header()] = None,
) -> Client:
    return Client(
        ip=_ip(request),
        device=x_device_fingerprint,
        platform=x_client_platform,
        user_agent=user_agent[:512] if user_agent else None,
    )


ClientDep = Annotated[Client, Depends(get_client)]


LOCKED = ("suspended", "banned", "closed")


@dataclass(frozen=True)
class Principal:
    user: User
    session: AuthSession
    claims: AccessClaims


def _unauthorized(error: str | None = None) -> HTTPException:
    challenge = f'Bearer error="{error}"' if error else "Bearer"
    return HTTPException(
        status.HTTP_401_UNAUTHORIZED,
        detail={"reason": error or "not_authenticated"},
        headers={"WWW-Authenticate": challenge},
    )


BearerDep = Annotated[HTTPAuthorizationCredentials | None, Depends(HTTPBearer(auto_error=False))]
# The session and its user in one round trip (one statement, built once).
_PRINCIPAL = (
    select(AuthSession, User)
    .join(User, User.id == AuthSession.user_id)
    .where(AuthSession.id == bindparam("session_id"))
)


def get_any_principal(
    credentials: BearerDep,
    services: ServicesDep,
    session: SessionDep,
) -> Principal:
    """The caller whatever its account status: only for what a locked account may still do."""
    if credentials is None:
        raise _unauthorized()
    try:
        claims = services.tokens.decode_access(credentials.credentials)
    except InvalidToken:
        raise _unauthorized("invalid_token") from None
    # Reading the session on every request makes logout and reuse revocation effective before
    # the token expires; its user comes with it (a join on the primary key).
    row = session.execute(_PRINCIPAL, {"session_id": claims.session_id}).first()
    if row is None:
        raise _unauthorized("invalid_token")
    auth_session, user = row
    if auth_session.revoked_at or auth_session.user_id != claims.user_id:
        raise _unauthorized("invalid_token")
    return Principal(user=user, session=auth_session, claims=claims)


AnyStatusUser = Annotated[Principal, Depends(get_any_principal)]


async def get_principal(me: AnyStatusUser) -> Principal:
    # A suspended or banned user may log in, but only to appeal (and see and end the session):
    # the status is read per request, so a ban also narrows sessions opened before it.
    if me.user.status in LOCKED:
        raise HTTPException(
            status.HTTP_403_FORBIDDEN, detail={"reason": f"account_{me.user.status}"}
        )
    return me


CurrentUser = Annotated[Principal, Depends(get_principal)]

"""Console test helpers: staff accounts, signing in through the login form, CSRF tokens."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

import httpx2 as httpx
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from core_api.db.admin import RoleGrant
from core_api.db.identity import DevMessage, User
from tests.core_api.routers.helpers import PASSWORD, register


def account_in(
    sessions: sessionmaker[Session],
    http: httpx.Client,
    *,
    role: str | None = "analyst",
    email: str | None = None,
) -> dict[str, Any]:
    """A user registered through ``http`` with a verified e-mail (the second factor goes
    there) and ``role``, granted in the database."""
    made = register(http, email)  # type: ignore[arg-type]  # any httpx client will do
    with sessions() as s:
        user = s.get(User, made["id"])
        assert user is not None
        user.email_verified_at = datetime.now(UTC)
        if role:
            s.add(RoleGrant(user_id=user.id, role=role, granted_by=None))
        s.commit()
    return made


def account(
    api: TestClient, *, role: str | None = "analyst", email: str | None = None
) -> dict[str, Any]:
    return account_in(api.app.state.services.sessions, api, role=role, email=email)


def code_in(sessions: sessionmaker[Session], email: str) -> str:
    """The newest one-time code sent to ``email`` (what the analyst reads in their inbox)."""
    with sessions() as s:
        body = s.scalars(
            select(DevMessage.body)
            .where(DevMessage.recipient == email)
            .order_by(DevMessage.id.desc())
        ).first()
    assert body is not None, f"no message to {email}"
    found = re.search(r"\b(\d{6})\b", body)
    assert found
    return found.group(1)


def form_token(html: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found, "no CSRF field in the page"
    return found.group(1)


def sign_in(api: TestClient, email: str, *, password: str = PASSWORD, next_: str = "") -> Any:
    page = api.get("/review/login")
    assert page.status_code == 200
    body = {"email": email, "password": password, "csrf_token": form_token(page.text)}
    if next_:
        body["next"] = next_
    return api.post("/review/login", data=body, follow_redirects=False)


def csrf(api: TestClient) -> str:
    """The signed-in session's token, as the pages carry it."""
    page = api.get("/review/metrics")
    found = re.search(r'<meta name="csrf-token" content="([^"]+)"', page.text)
    assert found, page.text[:300]
    return found.group(1)

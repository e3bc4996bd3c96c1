"""Small HTTP helpers shared by the router tests."""

from __future__ import annotations

import re
import uuid
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select

from core_api.db.identity import DevMessage
from core_api.db.outbox import OutboxRow

PASSWORD = "correct horse battery"


def register(api: TestClient, email: str | None = None, **extra: Any) -> dict[str, Any]:
    email = email or f"u{uuid.uuid4().hex[:10]}@example.com"
    body = {"email": email, "password": PASSWORD, "display_name": "Ada", **extra}
    response = api.post("/identity/register", json=body)
    assert response.status_code == 201, response.text
    return response.json()


def login(api: TestClient, email: str, *, device: str | None = "dev-1") -> dict[str, Any]:
    headers = {"X-Device-Fingerprint": device} if device else {}
    response = api.post(
        "/identity/login", json={"email": email, "password": PASSWORD}, headers=headers
    )
    assert response.status_code == 200, response.text
    return response.json()


def signed_in(api: TestClient) -> tuple[dict[str, Any], dict[str, str]]:
    """A fresh account and the Authorization header of a session of it."""
    account = register(api)
    tokens = login(api, account["email"])
    return account, {"Authorization": f"Bearer {tokens['access_token']}"}


def events(api: TestClient, event_type: str | None = None) -> list[OutboxRow]:
    with api.app.state.services.sessions() as s:
        query = select(OutboxRow).order_by(OutboxRow.id)
        if event_type:
            query = query.where(OutboxRow.event_type == event_type)
        return list(s.scalars(query))


def last_code(api: TestClient, recipient: str) -> str:
    """The code in the newest dev message to ``recipient`` (what a user reads in their inbox)."""
    with api.app.state.services.sessions() as s:
        body = s.scalars(
            select(DevMessage.body)
            .where(DevMessage.recipient == recipient)
            .order_by(DevMessage.id.desc())
        ).first()
    assert body is not None, f"no message to {recipient}"
    match = re.search(r"\b(\d{6})\b", body)
    assert match
    return match.group(1)

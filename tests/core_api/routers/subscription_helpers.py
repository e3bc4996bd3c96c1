"""Helpers for the subscription tests: a seller's plan, a funded subscriber, their rows."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select

from core_api.db.subscriptions import Invoice, Subscription
from tests.core_api.routers.helpers import events
from tests.core_api.routers.money_helpers import fund, key, trusted


def plan(api: TestClient, headers: dict[str, str], **fields: Any) -> dict[str, Any]:
    body = {"name": "Pro", "price": "9.99", "currency": "EUR", "interval": "month", **fields}
    made = api.post("/subscriptions/plans", json=body, headers=headers)
    assert made.status_code == 201, made.text
    return made.json()


def subscriber(api: TestClient, funds: str | None = "30") -> tuple[dict[str, Any], dict[str, str]]:
    account, headers = trusted(api)
    if funds:
        fund(api, headers, funds)
    return account, headers


def subscribe(api: TestClient, headers: dict[str, str], plan_id: str) -> dict[str, Any]:
    done = api.post("/subscriptions", json={"plan_id": plan_id}, headers={**headers, **key()})
    assert done.status_code == 201, done.text
    return done.json()


def row(api: TestClient, subscription_id: str) -> Subscription:
    with api.app.state.services.sessions() as s:
        found = s.get(Subscription, subscription_id)
        assert found is not None
        s.expunge(found)
        return found


def invoices(api: TestClient, subscription_id: str) -> list[tuple[int, str, int, str | None]]:
    with api.app.state.services.sessions() as s:
        rows = s.scalars(
            select(Invoice)
            .where(Invoice.subscription_id == subscription_id)
            .order_by(Invoice.period)
        )
        return [(i.period, i.status, i.attempts, i.failure) for i in rows]


def payloads(api: TestClient, event_type: str) -> list[dict[str, Any]]:
    return [json.loads(e.line)["payload"] for e in events(api, event_type)]


def due(api: TestClient, subscription_id: str) -> datetime:
    found = row(api, subscription_id).next_attempt_at
    assert found is not None
    return found

"""Helpers for the payments and marketplace tests: trusted accounts, funding, ledger checks."""

from __future__ import annotations

import uuid
from datetime import timedelta
from decimal import Decimal
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import func, select

from core_api.db.identity import User
from core_api.db.money import Entry, Wallet
from tests.core_api.routers.helpers import last_code, signed_in


def age(api: TestClient, user_id: str, *, days: float = 2) -> None:
    """Past the rules' first minutes (critical actions denied) and first day (step-up)."""
    with api.app.state.services.sessions() as s:
        s.get(User, user_id).created_at -= timedelta(days=days)
        s.commit()


def trusted(api: TestClient) -> tuple[dict[str, Any], dict[str, str]]:
    """An aged account with a verified e-mail whose session holds a fresh second factor: the
    decision function allows its critical actions (rate limits aside)."""
    account, headers = signed_in(api)
    assert api.post("/identity/verify/email", headers=headers).status_code == 202
    code = last_code(api, account["email"])
    confirmed = api.post("/identity/verify/email/confirm", json={"code": code}, headers=headers)
    assert confirmed.status_code == 200, confirmed.text
    age(api, account["id"])
    assert api.post("/identity/mfa/challenge", headers=headers).status_code == 202
    code = last_code(api, account["email"])
    raised = api.post("/identity/mfa/verify", json={"code": code}, headers=headers)
    assert raised.status_code == 200, raised.text
    return account, headers


def key() -> dict[str, str]:
    return {"Idempotency-Key": f"k-{uuid.uuid4().hex}"}


def fund(api: TestClient, headers: dict[str, str], amount: str, currency: str = "EUR") -> None:
    body = {"amount": amount, "currency": currency, "payment_method_id": "pm_card_visa"}
    done = api.post("/payments/deposits", json=body, headers={**headers, **key()})
    assert done.status_code == 201, done.text


def balance(api: TestClient, user_id: str, currency: str = "EUR") -> Decimal:
    with api.app.state.services.sessions() as s:
        found = s.scalar(
            select(Wallet.balance).where(Wallet.owner_id == user_id, Wallet.currency == currency)
        )
    return found if found is not None else Decimal("0.0000")


def assert_ledger_consistent(api: TestClient) -> None:
    """Every transaction balances, and each wallet's balance is the sum of its entries."""
    with api.app.state.services.sessions() as s:
        unbalanced = s.execute(
            select(Entry.transaction_id)
            .group_by(Entry.transaction_id)
            .having(func.sum(Entry.amount) != Decimal(0))
        ).all()
        assert unbalanced == []
        for wallet in s.scalars(select(Wallet)):
            entries = s.scalars(select(Entry.amount).where(Entry.wallet_id == wallet.id)).all()
            assert sum(entries, Decimal(0)) == wallet.balance, wallet.key
            assert wallet.kind == "external" or wallet.balance >= 0

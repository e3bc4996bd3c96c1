"""Money is conserved under concurrent transfers through the real app, on both databases."""

from __future__ import annotations

import random
import uuid
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal

from fastapi.testclient import TestClient
from sqlalchemy import func, select

from core_api.db.money import LedgerTransaction
from tests.core_api.routers.helpers import events
from tests.core_api.routers.money_helpers import assert_ledger_consistent, balance, fund, trusted

USERS, TRANSFERS, RETRIES, START = 5, 50, 10, Decimal("100.0000")


def test_fifty_concurrent_transfers_conserve_money(any_api: TestClient) -> None:
    rng = random.Random(7)
    people = [trusted(any_api) for _ in range(USERS)]
    for _, headers in people:
        fund(any_api, headers, str(START))
    # Amounts large enough that some transfers find the sender short and must be refused.
    plans = []
    for _ in range(TRANSFERS):
        sender, receiver = rng.sample(range(USERS), 2)
        amount = Decimal(rng.randint(1, 600_000)).scaleb(-4)  # up to 60.0000
        plans.append((sender, receiver, f"k-{uuid.uuid4().hex}", format(amount, "f")))
    requests = plans + rng.sample(plans, RETRIES)  # the same keys sent again, concurrently
    rng.shuffle(requests)

    def send(plan: tuple[int, int, str, str]) -> tuple[str, int, dict]:
        sender, receiver, key, amount = plan
        body = {"to_user_id": people[receiver][0]["id"], "amount": amount, "currency": "EUR"}
        headers = {**people[sender][1], "Idempotency-Key": key}
        response = any_api.post("/payments/transfers", json=body, headers=headers)
        return key, response.status_code, response.json()

    with ThreadPoolExecutor(max_workers=16) as pool:
        results = list(pool.map(send, requests))

    codes = sorted({code for _, code, _ in results})
    assert set(codes) <= {201, 409}, results  # done, or refused for want of funds
    refused = {r["detail"]["reason"] for _, code, r in results if code == 409}
    assert refused <= {"insufficient_funds"}
    balances = [balance(any_api, account["id"]) for account, _ in people]
    assert sum(balances) == START * USERS and min(balances) >= 0
    # One transfer per key that succeeded, however many times the key was sent.
    done = {key: body["id"] for key, code, body in results if code == 201}
    for key, code, body in results:
        if code == 201:
            assert body["id"] == done[key]
    with any_api.app.state.services.sessions() as s:
        moved = s.scalar(
            select(func.count())
            .select_from(LedgerTransaction)
            .where(LedgerTransaction.kind == "transfer")
        )
    assert moved == len(done) == len(events(any_api, "TRANSFER_SENT"))
    assert 0 < len(done) < TRANSFERS  # the run exercised both outcomes
    assert_ledger_consistent(any_api)

"""The billing run on both databases: once per period, retries, cancellation, two runs at once."""

from __future__ import annotations

import threading
from datetime import timedelta
from decimal import Decimal

import pytest
from fastapi.testclient import TestClient

from core_api.app import create_app
from core_api.db.identity import User
from core_api.services.billing import BillingReport, bill_one, run_billing
from settings import Settings
from tests.core_api.routers.money_helpers import assert_ledger_consistent, balance, fund, trusted
from tests.core_api.routers.subscription_helpers import (
    due,
    invoices,
    payloads,
    plan,
    row,
    subscribe,
    subscriber,
)


def _run(api: TestClient, at: object) -> BillingReport:
    return run_billing(api.app.state.services.sessions, now=at)  # type: ignore[arg-type]


def test_billing_charges_each_period_once(any_api: TestClient) -> None:
    seller, s_headers = trusted(any_api)
    offer = plan(any_api, s_headers, price="10", interval="month")
    buyer, b_headers = subscriber(any_api, "35")
    sub = subscribe(any_api, b_headers, offer["id"])
    end = due(any_api, sub["id"])
    assert _run(any_api, end - timedelta(minutes=1)).outcomes.total() == 0  # not due yet
    report = _run(any_api, end)
    assert (report.outcomes["renewed"], report.charged) == (1, {"EUR": Decimal("10.0000")})
    for _ in range(2):  # the same run again charges nothing more
        assert _run(any_api, end + timedelta(hours=1)).outcomes.total() == 0
    assert balance(any_api, buyer["id"]) == Decimal("15.0000")
    assert balance(any_api, seller["id"]) == Decimal("20.0000")
    after = row(any_api, sub["id"])
    assert (after.period, after.status, after.attempts) == (1, "active", 0)
    assert after.period_end > end and after.next_attempt_at == after.period_end
    assert invoices(any_api, sub["id"]) == [(0, "paid", 1, None), (1, "paid", 1, None)]
    [renewed] = payloads(any_api, "SUBSCRIPTION_RENEWED")
    assert (renewed["billing_period"], renewed["billing_attempt"], renewed["amount"]) == (
        1,
        1,
        "10.0000",
    )
    assert_ledger_consistent(any_api)


def test_failed_renewals_are_retried_then_the_subscription_is_cancelled(
    any_api: TestClient,
) -> None:
    _, s_headers = trusted(any_api)
    offer = plan(any_api, s_headers, price="10", interval="week")
    buyer, b_headers = subscriber(any_api, "10")  # one period's worth
    sub = subscribe(any_api, b_headers, offer["id"])
    end = due(any_api, sub["id"])
    retries = [end + timedelta(days=d) for d in (0, 1, 3, 7)]
    for attempt, at in enumerate(retries[:3], start=1):
        assert _run(any_api, at).outcomes["failed"] == 1
        assert _run(any_api, at + timedelta(hours=12)).outcomes.total() == 0  # not yet again
        now = row(any_api, sub["id"])
        assert (now.status, now.attempts, now.next_attempt_at) == (
            "past_due",
            attempt,
            retries[attempt],
        )
    assert _run(any_api, retries[3]).outcomes["cancelled"] == 1
    last = row(any_api, sub["id"])
    assert (last.status, last.cancel_reason, last.next_attempt_at) == ("cancelled", "unpaid", None)
    assert invoices(any_api, sub["id"])[1] == (1, "void", 4, "insufficient_funds")
    failed = payloads(any_api, "SUBSCRIPTION_PAYMENT_FAILED")
    assert [(f["billing_period"], f["billing_attempt"]) for f in failed] == [
        (1, 1),
        (1, 2),
        (1, 3),
        (1, 4),
    ]
    assert payloads(any_api, "SUBSCRIPTION_CANCELLED")[-1]["cancel_reason"] == "unpaid"
    assert _run(any_api, retries[3] + timedelta(days=30)).outcomes.total() == 0
    assert balance(any_api, buyer["id"]) == Decimal("0.0000")


def test_a_retry_after_a_top_up_renews_and_a_locked_account_fails(any_api: TestClient) -> None:
    _, s_headers = trusted(any_api)
    offer = plan(any_api, s_headers, price="10", interval="week")
    buyer, b_headers = subscriber(any_api, "10")
    sub = subscribe(any_api, b_headers, offer["id"])
    end = due(any_api, sub["id"])
    assert _run(any_api, end).outcomes["failed"] == 1
    fund(any_api, b_headers, "25")
    assert _run(any_api, end + timedelta(days=1)).outcomes["renewed"] == 1
    renewed = row(any_api, sub["id"])
    assert (renewed.status, renewed.attempts, renewed.period) == ("active", 0, 1)
    assert renewed.period_end == end + timedelta(weeks=1)  # periods keep their anchor
    assert payloads(any_api, "SUBSCRIPTION_RENEWED")[0]["billing_attempt"] == 2
    with any_api.app.state.services.sessions() as s:
        s.get(User, buyer["id"]).status = "suspended"
        s.commit()
    assert _run(any_api, renewed.period_end).outcomes["failed"] == 1
    assert payloads(any_api, "SUBSCRIPTION_PAYMENT_FAILED")[-1]["charge_failure"] == (
        "account_locked"
    )
    assert balance(any_api, buyer["id"]) == Decimal("15.0000")  # nothing taken while locked


def test_period_end_cancels_and_withdrawn_plans_end_without_a_charge(any_api: TestClient) -> None:
    _, s_headers = trusted(any_api)
    offer = plan(any_api, s_headers, price="3", interval="week")
    other = plan(any_api, s_headers, price="4", name="Other", interval="week")
    buyer, b_headers = subscriber(any_api, "20")
    leaving = subscribe(any_api, b_headers, offer["id"])
    staying = subscribe(any_api, b_headers, other["id"])
    assert (
        any_api.post(f"/subscriptions/{leaving['id']}/cancel", headers=b_headers).status_code == 200
    )
    assert (
        any_api.delete(f"/subscriptions/plans/{other['id']}", headers=s_headers).status_code == 204
    )
    report = _run(any_api, due(any_api, staying["id"]))
    assert (report.outcomes["ended"], report.outcomes["renewed"]) == (2, 0)
    assert row(any_api, leaving["id"]).status == row(any_api, staying["id"]).status == "cancelled"
    assert row(any_api, staying["id"]).cancel_reason == "plan_ended"
    assert balance(any_api, buyer["id"]) == Decimal("13.0000")


def test_two_billing_runs_at_once_charge_each_period_once(any_api: TestClient) -> None:
    _, s_headers = trusted(any_api)
    offer = plan(any_api, s_headers, price="2", interval="week")
    subs = []
    for _ in range(6):
        account, headers = subscriber(any_api, "10")
        subs.append((account["id"], subscribe(any_api, headers, offer["id"])["id"]))
    at = max(due(any_api, s) for _, s in subs)
    start = threading.Barrier(2)
    reports: list[BillingReport] = []

    def billing() -> None:
        start.wait()
        reports.append(_run(any_api, at))

    threads = [threading.Thread(target=billing) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert len(reports) == 2
    assert sum(r.outcomes["renewed"] for r in reports) == 6
    assert {balance(any_api, user) for user, _ in subs} == {Decimal("6.0000")}
    assert all(len(invoices(any_api, s)) == 2 for _, s in subs)
    assert len(payloads(any_api, "SUBSCRIPTION_RENEWED")) == 6
    assert_ledger_consistent(any_api)


@pytest.mark.integration
def test_a_run_skips_the_subscription_another_run_holds_on_postgresql(
    pg_settings: Settings,
) -> None:
    with TestClient(create_app(pg_settings, relay_every_s=None)) as api:
        _, s_headers = trusted(api)
        offer = plan(api, s_headers, price="2", interval="week")
        buyer, b_headers = subscriber(api, "10")
        sub = subscribe(api, b_headers, offer["id"])["id"]
        at = due(api, sub)
        sessions = api.app.state.services.sessions
        with sessions() as first:
            assert bill_one(first, sub, now=at)[0] == "renewed"  # row lock held, not committed
            report = run_billing(sessions, now=at)  # a second run meanwhile, own connections
            assert report.outcomes["skipped"] == 1 and report.outcomes.total() == 1
            first.commit()
        assert run_billing(sessions, now=at).outcomes.total() == 0
        assert balance(api, buyer["id"]) == Decimal("6.0000")
        assert_ledger_consistent(api)

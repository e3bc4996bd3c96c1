"""A hand-made story in a real lake (through the real ingest): every feature worked out by hand."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import polars as pl
import pytest

from core_api.events import new_event, to_wire
from features.lake import read_flat
from pipelines.ingest import Lake, ingest_days, landing_partitions

H, D = timedelta(hours=1), timedelta(days=1)
T0 = datetime(2026, 3, 2, 12, tzinfo=UTC)


def _ids(*names: str) -> dict[str, str]:
    return {n: str(uuid.uuid5(uuid.NAMESPACE_DNS, n)) for n in names}


U = _ids("alice", "bob", "carol", "mule", "seller", "dave", "analyst")
CTX = {
    "dev1": {"device_id": "dev1", "ip": "10.0.0.1", "country": "DE"},
    "dev2": {"device_id": "dev2", "ip": "10.0.0.2", "country": "FR"},
}


def _ev(
    kind: str,
    at: datetime,
    *,
    by: str,
    on: str | None = None,
    ctx: str | None = None,
    **payload: Any,
) -> bytes:
    """One wire line: ``by`` acts on ``on`` (default: on itself); names in ``U`` are users."""
    on = on or by
    return to_wire(
        new_event(
            kind,
            actor_id=U.get(by, by),
            subject_id=U.get(on, on),
            payload=payload,
            context=CTX.get(ctx or "", {}),
            occurred_at=at,
        )
    )


def _pay(kind: str, at: datetime, *, by: str, amount: str, **extra: Any) -> bytes:
    return _ev(
        kind,
        at,
        by=by,
        on=str(uuid.uuid4()),
        ctx="dev2",
        amount=amount,
        currency="EUR",
        payment_method_id="pm_1",
        purpose="top_up",
        **extra,
    )


def _story() -> list[bytes]:
    """Alice pays from a device two other accounts use and gets a chargeback five days later;
    alice, bob and carol each send the mule 100, which pays 300 out ten minutes after the last;
    an analyst confirms the mule four days later; a seller has one sale, paid, never shipped,
    disputed."""
    reg = {"email_domain": "example.com", "signup_channel": "web"}
    login = {"login_method": "password", "mfa_used": False, "session_id": str(uuid.uuid4())}
    order, listing = str(uuid.uuid4()), str(uuid.uuid4())
    money = {"currency": "EUR"}
    return [
        *(_ev("USER_REGISTERED", T0 - 10 * D, by=u, **reg) for u in ("alice", "bob", "carol")),
        _ev("USER_REGISTERED", T0 - 2 * D, by="mule", **reg),
        _ev("USER_REGISTERED", T0 - 20 * D, by="seller", **reg),
        _ev("VERIFICATION_COMPLETED", T0 - 9 * D, by="alice", verification="email"),
        _ev("VERIFICATION_COMPLETED", T0 + H, by="alice", verification="phone"),
        _ev("USER_LOGGED_IN", T0 - 5 * D, by="alice", ctx="dev1", **login),
        _ev("USER_LOGGED_IN", T0 - D, by="bob", ctx="dev2", **login),
        _ev("USER_LOGGED_IN", T0 - 2 * H, by="carol", ctx="dev2", **login),
        _pay("PAYMENT_SUCCESS", T0, by="alice", amount="50.00"),  # a new device, from a new country
        _pay(
            "PAYMENT_FAILED", T0 + H / 6, by="alice", amount="20.00", failure_code="card_declined"
        ),
        _pay("PAYMENT_SUCCESS", T0 + H / 2, by="alice", amount="70.00"),
        *(
            _ev(
                "TRANSFER_SENT",
                T0 + (i + 1) * H,
                by=u,
                on="mule",
                ctx="dev2",
                transfer_id=str(uuid.uuid4()),
                amount="100",
                **money,
            )
            for i, u in enumerate(("alice", "bob", "carol"))
        ),
        _ev(
            "PAYOUT_REQUESTED",
            T0 + 3 * H + H / 6,
            by="mule",
            on=str(uuid.uuid4()),
            ctx="dev1",
            amount="300",
            destination_id="ba_1",
            **money,
        ),
        _ev(
            "LISTING_CREATED",
            T0 - 4 * D,
            by="seller",
            on=listing,
            ctx="dev1",
            category="toys",
            price="10",
            item_condition="new",
            lat=0.0,
            lon=0.0,
            **money,
        ),
        _ev(
            "ORDER_PLACED",
            T0 - 3 * D,
            by="dave",
            on=order,
            ctx="dev1",
            listing_id=listing,
            amount="10",
            quantity=1,
            seller_id=U["seller"],
            **money,
        ),
        _ev(
            "ORDER_STATUS_CHANGED",
            T0 - 3 * D + H,
            by="dave",
            on=order,
            order_status="paid",
            seller_id=U["seller"],
        ),
        _ev(
            "DISPUTE_OPENED",
            T0 - D,
            by="dave",
            on=order,
            ctx="dev1",
            dispute_reason="not_received",
            amount="10",
            seller_id=U["seller"],
            **money,
        ),
        _ev(
            "CHARGEBACK_RECEIVED",
            T0 + 5 * D,
            by="alice",
            on=str(uuid.uuid4()),
            amount="50",
            chargeback_reason="fraudulent",
            **money,
        ),
        _ev(
            "REVIEW_DECISION",
            T0 + 4 * D,
            by="analyst",
            on="mule",
            decision="confirmed_fraud",
            case_id=str(uuid.uuid4()),
        ),
    ]


@pytest.fixture(scope="session")
def story(tmp_path_factory: pytest.TempPathFactory) -> pl.DataFrame:
    """The story above, through the real ingest into a real lake, read back."""
    root = tmp_path_factory.mktemp("story")
    lines = _story()
    for i, line in enumerate(lines):
        day = new_event_day(line)
        folder = root / "landing" / day
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"part-{i:03d}.ndjson").write_bytes(line + b"\n")
    lake = Lake(root / "lake")
    ingest_days(root / "landing", sorted(landing_partitions(root / "landing")), lake=lake)
    events = read_flat(lake.events_dir)
    assert events.height == len(lines)
    return events


def new_event_day(line: bytes) -> str:
    return line.split(b'"occurred_at":"')[1][:10].decode()

"""A hand-made story in a real lake, worked out edge by edge, and its version with later events."""

from __future__ import annotations

import math
import uuid
from datetime import datetime
from pathlib import Path

import pytest

from tests.features.platform_graph.pgraph_lakes import T0, D, H, M, ev, register, uid, write_lake

USERS = ("alice", "bob", "carol", "dave", "eve", "seller")
SNAPSHOT = T0 + D
MONEY_100 = math.log1p(100) / math.log1p(10_000)
IP3 = 1 / math.log2(3)


def _login(name: str, at: datetime, *, device: str, ip: str) -> bytes:
    return ev(
        "USER_LOGGED_IN",
        at,
        by=name,
        device=device,
        ip=ip,
        login_method="password",
        mfa_used=False,
        session_id=str(uuid.uuid4()),
    )


def _order(buyer: str, amount: str, *, at: datetime, statuses: tuple[str, ...]) -> list[bytes]:
    order = str(uuid.uuid5(uuid.NAMESPACE_DNS, f"order-{buyer}-{amount}"))
    placed = ev(
        "ORDER_PLACED",
        at,
        by=buyer,
        on=order,
        listing_id=str(uuid.uuid4()),
        amount=amount,
        currency="EUR",
        quantity=1,
        seller_id=uid("seller"),
    )
    steps = [
        ev(
            "ORDER_STATUS_CHANGED",
            at + (i + 1) * M,
            by="system" if s == "delivered" else buyer,
            on=order,
            order_status=s,
            seller_id=uid("seller"),
        )
        for i, s in enumerate(statuses)
    ]
    return [placed, *steps]


def story() -> list[bytes]:
    """Everything before SNAPSHOT; the expected edges are in test_pgraph_build.EXPECTED."""
    lines = [
        register(u, T0 - 10 * D, device=f"dev-{u}", ip=f"10.0.1.{i}") for i, u in enumerate(USERS)
    ]
    trust = {"edge_type": "friend", "weight": 0.7}
    lines += [
        ev("TRUST_CONNECTION_ADDED", T0, by="alice", on="bob", **trust),
        ev(
            "TRUST_CONNECTION_ADDED",
            T0 + H,
            by="alice",
            on="bob",
            edge_type="verified_connection",
            weight=0.9,
        ),
        ev("TRUST_CONNECTION_ADDED", T0, by="carol", on="alice", edge_type="friend", weight=0.5),
        ev("TRUST_CONNECTION_REMOVED", T0 + 2 * H, by="carol", on="alice", edge_type="friend"),
        ev("TRUST_CONNECTION_ADDED", T0, by="dave", on="alice", edge_type="follow", weight=0.3),
        ev("USER_FOLLOWED", T0 + H, by="dave", on="alice", follow_source="profile"),
        ev("USER_FOLLOWED", T0, by="eve", on="bob", follow_source="post"),
        ev("USER_FOLLOWED", T0, by="alice", on="alice", follow_source="post"),  # a self-loop
        *_order("bob", "100", at=T0, statuses=("paid", "shipped", "delivered")),
        *_order("alice", "40", at=T0, statuses=("paid",)),  # never delivered
        *_order("carol", "60", at=T0, statuses=("paid", "delivered", "refunded")),
        ev(
            "TRANSFER_SENT",
            T0,
            by="alice",
            on="carol",
            transfer_id=str(uuid.uuid4()),
            amount="30",
            currency="EUR",
        ),
        ev(
            "TRANSFER_SENT",
            T0 + H,
            by="alice",
            on="carol",
            transfer_id=str(uuid.uuid4()),
            amount="70",
            currency="EUR",
        ),
        _login("alice", T0 + 2 * H, device="dev-shared", ip="10.9.9.9"),
        ev("DEVICE_ADDED", T0 + 3 * H, by="bob", device_id="dev-shared", platform="web"),
        _login("bob", T0 + 4 * H, device="dev-bob", ip="10.9.9.9"),
        _login("carol", T0 + 5 * H, device="dev-carol", ip="10.9.9.9"),
        # The system actor acts from shared infrastructure: never a user sighting.
        ev(
            "ACCOUNT_STATUS_CHANGED",
            T0 + 6 * H,
            by="system",
            on="dave",
            device="dev-shared",
            ip="10.9.9.9",
            account_status="active",
            reason_code="kyc_ok",
        ),
        ev("USER_REPORTED", T0, by="eve", on="alice", report_reason="scam"),
        ev("USER_BLOCKED", T0, by="eve", on="bob"),
        ev("USER_BLOCKED", T0 + H, by="eve", on="bob"),
        ev("USER_BLOCKED", T0 + H, by="bob", on="eve"),
    ]
    return lines


def later() -> list[bytes]:
    """Events after SNAPSHOT: they must not change it."""
    at = SNAPSHOT + D
    return [
        ev("TRUST_CONNECTION_REMOVED", at, by="alice", on="bob", edge_type="verified_connection"),
        ev("USER_REPORTED", at, by="carol", on="dave", report_reason="spam"),
        ev(
            "TRANSFER_SENT",
            at,
            by="bob",
            on="alice",
            transfer_id=str(uuid.uuid4()),
            amount="10",
            currency="EUR",
        ),
        _login("dave", at, device="dev-shared", ip="10.9.9.9"),
        register("frank", at),
    ]


@pytest.fixture(scope="package")
def story_lake(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_lake(tmp_path_factory.mktemp("pgraph_story"), story())


@pytest.fixture(scope="package")
def story_lake_later(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("pgraph_story_later")
    write_lake(root, story(), batch="a")
    return write_lake(root, later(), batch="b")

"""Failed subscription charges as a velocity feature: a card tester's burst of first charges,
through the real ingest into a real lake, counted in its windows."""

from __future__ import annotations

import uuid
from pathlib import Path

import polars as pl

from core_api.events import new_event, to_wire
from features.fraud.platform import platform_features
from features.lake import read_flat
from pipelines.ingest import Lake, ingest_days, landing_partitions
from tests.features.fraud.conftest import T0, D, H, new_event_day

TESTER, SELLER = str(uuid.uuid4()), str(uuid.uuid4())


def _failed(minutes: int, *, period: int) -> bytes:
    payload = {
        "plan_id": str(uuid.uuid4()),
        "amount": "4.00",
        "currency": "EUR",
        "seller_id": SELLER,
        "billing_period": period,
        "billing_attempt": 1,
        "charge_failure": "insufficient_funds",
    }
    return to_wire(
        new_event(
            "SUBSCRIPTION_PAYMENT_FAILED",
            actor_id=TESTER,
            subject_id=str(uuid.uuid4()),
            payload=payload,
            occurred_at=T0 + minutes * H / 60,
        )
    )


def test_failed_subscription_charges_count_in_their_windows(tmp_path: Path) -> None:
    lines = [_failed(m, period=0) for m in (0, 5, 10)] + [_failed(60 * 30, period=1)]
    for i, line in enumerate(lines):
        folder = tmp_path / "landing" / new_event_day(line)
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"part-{i:03d}.ndjson").write_bytes(line + b"\n")
    lake = Lake(tmp_path / "lake")
    ingest_days(tmp_path / "landing", sorted(landing_partitions(tmp_path / "landing")), lake=lake)
    at = [T0 + H / 6, T0 + 3 * H, T0 + 2 * D]
    got = platform_features(
        read_flat(lake.events_dir), pl.DataFrame({"user_id": [TESTER] * 3, "at": at})
    )
    assert got["failed_subscription_charges_n_1h"].to_list() == [3, 0, 0]
    assert got["failed_subscription_charges_n_24h"].to_list() == [3, 3, 1]
    assert got["failed_subscription_charges_n_7d"].to_list() == [3, 3, 4]
    assert got["failed_subscription_charges_amount_7d"].to_list() == [12.0, 12.0, 16.0]

"""Platform fraud features: the contract on a simulated lake, point-in-time as a property, and a
hand-made lake whose every number is worked out by hand."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import polars as pl
import pytest

from features.fraud.platform import action_queries, platform_features, snapshot_queries
from features.fraud.schema import PLATFORM_FEATURES, problems
from features.lake import read_flat
from tests.conftest import SmallLake
from tests.features.fraud.conftest import T0, D, U


@pytest.fixture(scope="module")
def lake_events(small_lake: SmallLake) -> pl.DataFrame:
    return read_flat(small_lake.events)


def _queries(events: pl.DataFrame, cut: datetime) -> pl.DataFrame:
    """Every action up to the cut, and every registered user at the cut."""
    return pl.concat(
        [action_queries(events), snapshot_queries(events, cut)], how="diagonal_relaxed"
    )


def test_platform_features_keep_the_contract(lake_events: pl.DataFrame) -> None:
    q = _queries(lake_events, lake_events["at"].max())
    out = platform_features(lake_events, q)
    assert problems(out, PLATFORM_FEATURES) == []
    assert out.columns == q.columns + [f.name for f in PLATFORM_FEATURES]
    assert out.select(q.columns).equals(q)  # row for row


@pytest.mark.parametrize("day", [2.5, 6.0, 9.25])
def test_appending_future_events_never_changes_a_past_row(
    small_lake: SmallLake, lake_events: pl.DataFrame, day: float
) -> None:
    """Features from the lake up to a cut equal, exactly, features from the whole lake, for every
    action up to the cut, every user at the cut, and every later action scored at the cut (its
    device, IP and country not seen yet: probes for reads of the future)."""
    cut = datetime.combine(small_lake.start, datetime.min.time(), UTC) + day * D
    past = read_flat(small_lake.events, until=cut)
    assert past.equals(lake_events.filter(pl.col("at") <= cut))
    assert past.height < lake_events.height
    probes = action_queries(lake_events.filter(pl.col("at") > cut)).with_columns(
        at=pl.lit(cut).cast(lake_events.schema["at"])
    )
    q = pl.concat([_queries(past, cut), probes], how="diagonal_relaxed")
    assert platform_features(past, q).equals(platform_features(lake_events, q))


def _at(events: pl.DataFrame, user: str, *, at: datetime) -> dict[str, Any]:
    q = pl.DataFrame({"user_id": [U[user]], "at": [at]})
    return platform_features(events, q).row(0, named=True)


def test_the_story_features_as_worked_out_by_hand(story: pl.DataFrame) -> None:
    actions = platform_features(story, action_queries(story))
    paying = (pl.col("user_id") == U["alice"]) & pl.col("event_type").str.starts_with("PAYMENT")
    first, _, second = actions.filter(paying).rows(named=True)
    # A payment from a device and country alice never used, shared with two other accounts.
    assert (first["new_device"], first["new_country"], first["users_per_device_ever"]) == (1, 1, 3)
    assert first["device_age_hours"] is None and first["devices_n_ever"] == 2
    assert (second["new_device"], second["device_age_hours"]) == (0, 0.5)
    assert (second["payments_n_1h"], second["payments_amount_1h"]) == (2, 120.0)
    assert second["failed_payments_n_1h"] == 1 and second["failed_payment_ratio_24h"] == 1 / 3
    assert first["account_age_days"] == 10.0 and first["verified_email"] == 1
    assert first["verified_phone"] == 0 and second["verified_phone"] == 0  # phone: T0 + 1h
    payout = actions.filter(pl.col("event_type") == "PAYOUT_REQUESTED").row(0, named=True)
    assert payout["fan_in_senders_24h"] == 3 and payout["transfers_in_amount_24h"] == 300.0
    assert payout["secs_since_money_in"] == 600 and payout["last_money_in_to_out_secs"] == 600
    assert payout["pass_through_ratio_7d"] == 1.0 and payout["account_age_days"] == pytest.approx(
        2 + 3.1667 / 24, abs=1e-3
    )
    # Labels count only once their events have happened.
    assert _at(story, "alice", at=T0 + D)["chargebacks_n_ever"] == 0
    assert _at(story, "alice", at=T0 + 6 * D)["chargebacks_n_ever"] == 1
    assert _at(story, "mule", at=T0 + 3 * D)["fraud_confirmed_n_ever"] == 0
    assert _at(story, "mule", at=T0 + 4 * D)["fraud_confirmed_n_ever"] == 1
    seller = _at(story, "seller", at=T0)
    assert (seller["sales_n_ever"], seller["sales_paid_n_ever"], seller["fulfilment_rate"]) == (
        1,
        1,
        0.0,
    )
    assert seller["seller_dispute_rate"] == 1.0 and seller["listing_price_ratio_mean"] == 1.0
    assert _at(story, "seller", at=T0 - 2 * D)["seller_dispute_rate"] == 0.0  # dispute: T0 - 1d


def test_snapshot_queries_carry_the_last_context(story: pl.DataFrame) -> None:
    snap = snapshot_queries(story, T0 + D)
    assert set(snap["user_id"]) == {U[u] for u in ("alice", "bob", "carol", "mule", "seller")}
    alice = snap.filter(pl.col("user_id") == U["alice"]).row(0, named=True)
    assert (alice["device_id"], alice["country"]) == ("dev2", "FR")
    out = platform_features(story, snap)
    assert problems(out, PLATFORM_FEATURES) == []


def test_amounts_convert_with_fx(story: pl.DataFrame) -> None:
    q = action_queries(story, fx={"EUR": 2.0}).filter(pl.col("event_type") == "PAYMENT_SUCCESS")
    out = platform_features(story, q, fx={"EUR": 2.0})
    assert out["amount"].to_list() == [100.0, 140.0]
    assert out["payments_amount_24h"].to_list() == [100.0, 240.0]

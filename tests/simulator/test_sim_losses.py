"""The losses truth: money fraud took, when and through whom, in both modes."""

from __future__ import annotations

from decimal import Decimal

import polars as pl
import pytest

from simulator.losses import SCHEMA

from .conftest import Run

# Which typology each kind of loss is charged to.
CHARGED_TO = {
    "ato_payout": {"account_takeover"},
    "card_testing": {"card_testing"},
    "stolen_card_order": {"card_testing"},
    "scam_order": {"scam_seller", "sybil_ring"},
    "mule_cashout": {"money_mule"},
}


@pytest.mark.parametrize("mode", ["honest", "hardened"])
def test_losses_truth_is_sound(mode: str, request: pytest.FixtureRequest) -> None:
    done: Run = request.getfixturevalue(mode)
    losses = pl.read_parquet(done.truth / "losses.parquet")
    users = pl.read_parquet(done.truth / "users.parquet")
    assert losses.schema == SCHEMA
    assert set(losses["kind"]) == set(CHARGED_TO)  # every kind of theft happened
    assert (losses["amount_cents"] > 0).all() and losses["amount_usd"].min() >= 0
    # Only normal mode's card probes (a few local cents, whatever the currency) round to $0.00.
    assert set(losses.filter(pl.col("amount_usd") == 0)["kind"]) <= {"card_testing"}
    assert losses["at"].is_between(done.start, done.end, closed="left").all()
    charged = losses.join(users, on="user_id", how="left")
    assert charged["is_fraud"].all()  # every loss is charged to a fraud account
    for kind, typologies in CHARGED_TO.items():
        assert set(charged.filter(kind=kind)["typology"]) <= typologies, kind
    # Nothing is stolen before the scheme starts (for a takeover: before the attacker got in).
    assert (charged["at"] >= charged["fraud_from"]).all()


def test_losses_add_up_from_orders_exactly(honest: Run) -> None:
    losses = pl.read_parquet(honest.truth / "losses.parquet")
    orders = pl.read_parquet(honest.truth / "orders.parquet")
    paid = orders.filter((pl.col("mode") == "scam_listing") & ~pl.col("cancelled"))
    scams = losses.filter(kind="scam_order")
    assert scams.height == paid.height
    assert scams["amount_cents"].sum() == paid["amount_cents"].sum()
    usd = scams.filter(currency="USD")
    assert (usd["amount_usd"] * 100).cast(pl.Int64).equals(usd["amount_cents"])


def test_hard_fraud_still_does_harm(honest: Run, hardened: Run) -> None:
    def total(done: Run) -> Decimal:
        return pl.read_parquet(done.truth / "losses.parquet")["amount_usd"].sum()

    hard, normal = total(hardened), total(honest)
    assert Decimal(0) < hard < normal  # quieter and smaller, but not harmless

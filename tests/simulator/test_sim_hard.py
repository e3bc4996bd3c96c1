"""Hard mode: the same recruits hide (aged accounts, own devices, ordinary lives) yet still steal.

``honest`` and ``hardened`` are the same world (users, recruits, scheme starts); only hard mode's
hiding differs, so each test compares like with like.
"""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import polars as pl

from simulator import SimConfig
from simulator.catalog import DATACENTER_BLOCKS

from .conftest import Run, run
from .test_sim_determinism import snapshot

NEW_ACCOUNT_SCHEMES = ["sybil_ring", "spam_farm", "card_testing", "scam_seller"]


def fraud(users: pl.DataFrame, typologies: list[str] | None = None) -> pl.DataFrame:
    f = users.filter(pl.col("is_fraud"))
    return f if typologies is None else f.filter(pl.col("typology").is_in(typologies))


def test_hard_flag_changes_the_world_but_not_who_is_recruited(
    honest: Run, hardened: Run, users: pl.DataFrame, hard_users: pl.DataFrame
) -> None:
    assert snapshot(honest.out) != snapshot(hardened.out)
    assert json.loads((hardened.truth / "manifest.json").read_text())["config"]["hard"] is True
    assert json.loads((honest.truth / "manifest.json").read_text())["config"]["hard"] is False
    left = users.select("user_id", "typology", "fraud_from")
    right = hard_users.select("user_id", "typology", "fraud_from")
    assert left.equals(right)
    assert hardened.summary.fraud_users_by_typology == honest.summary.fraud_users_by_typology


def test_hard_accounts_are_aged_before_their_scheme(
    users: pl.DataFrame, hard_users: pl.DataFrame
) -> None:
    def age(frame: pl.DataFrame) -> pl.Series:
        gap = pl.col("fraud_from") - pl.col("registered_at")
        return fraud(frame, NEW_ACCOUNT_SCHEMES).select(gap).to_series()

    assert age(users).max() <= timedelta(0)  # normal mode: the scheme starts at sign-up
    assert age(hard_users).min() >= timedelta(days=14)


def test_hard_fraud_is_older_at_its_first_theft(honest: Run, hardened: Run) -> None:
    def age_at_first_loss(done: Run) -> float:
        losses = pl.read_parquet(done.truth / "losses.parquet")
        users = pl.read_parquet(done.truth / "users.parquet")
        first = losses.group_by("user_id").agg(pl.col("at").min())
        aged = first.join(users, on="user_id").select(pl.col("at") - pl.col("registered_at"))
        return aged.to_series().dt.total_hours().mean() / 24

    assert age_at_first_loss(hardened) > age_at_first_loss(honest) + 10


def devices_shared(events: pl.DataFrame, users: pl.DataFrame) -> float:
    """Mean over fraud users of how many other accounts use their most shared device."""
    seen = events.filter(pl.col("device").is_not_null()).select("actor", "device").unique()
    per_device = seen.group_by("device").agg(n=pl.col("actor").n_unique())
    mine = seen.join(fraud(users).select(actor="user_id"), on="actor")
    worst = mine.join(per_device, on="device").group_by("actor").agg(pl.col("n").max() - 1)
    return float(worst["n"].mean())


def datacenter_share(events: pl.DataFrame, users: pl.DataFrame) -> float:
    mine = events.join(fraud(users).select(actor="user_id"), on="actor")
    first = mine["ip"].drop_nulls().str.split(".").list.first().cast(pl.UInt32)
    return float(first.is_in(DATACENTER_BLOCKS.tolist()).mean())


def test_hard_fraud_shares_fewer_devices_and_avoids_hosting_ips(
    events: pl.DataFrame, users: pl.DataFrame, hard_events: pl.DataFrame, hard_users: pl.DataFrame
) -> None:
    normal, hard = devices_shared(events, users), devices_shared(hard_events, hard_users)
    assert hard < normal / 2, (normal, hard)
    assert datacenter_share(events, users) > 0.3
    assert datacenter_share(hard_events, hard_users) < 0.01


def test_hard_fraudsters_live_ordinary_lives(hardened: Run, honest: Run) -> None:
    def cover(done: Run) -> tuple[int, float]:
        users = pl.read_parquet(done.truth / "users.parquet")
        orders = pl.read_parquet(done.truth / "orders.parquet")
        crooks = fraud(users, NEW_ACCOUNT_SCHEMES).select(buyer_id="user_id")
        genuine = orders.join(crooks, on="buyer_id").filter(mode="honest")
        posts = pl.read_parquet(done.truth / "posts.parquet")
        farms = posts.join(fraud(users, ["spam_farm"]).select(author_id="user_id"), on="author_id")
        return genuine.height, float(farms["is_spam"].mean())

    bought, spam_share = cover(hardened)
    assert bought > 3 and spam_share < 0.8
    assert cover(honest) == (0, 1.0)


def test_hard_takeovers_wait_and_drain_in_pieces(
    users: pl.DataFrame, honest: Run, hardened: Run
) -> None:
    def drains(done: Run) -> pl.DataFrame:
        losses = pl.read_parquet(done.truth / "losses.parquet").filter(kind="ato_payout")
        return (
            losses.join(users.select("user_id", "fraud_from"), on="user_id")
            .group_by("user_id")
            .agg(wait=(pl.col("at") - pl.col("fraud_from")).min(), n=pl.len())
        )

    normal, hard = drains(honest), drains(hardened)
    assert normal["wait"].max() < timedelta(hours=1) and (normal["n"] == 1).all()
    assert hard.height > 0 and hard["wait"].min() >= timedelta(days=1)
    assert hard["n"].max() > 1


def test_hard_mules_hold_money_longer(hard_events: pl.DataFrame, hard_users: pl.DataFrame) -> None:
    mules = fraud(hard_users, ["money_mule"]).select(subject="user_id")
    inflow = (
        hard_events.filter(et="TRANSFER_SENT")
        .join(mules, on="subject")
        .select(mule="subject", t_in=pl.col("ts").str.to_datetime(time_zone="UTC"))
    )
    payout = hard_events.filter(pl.col("et") == "PAYOUT_REQUESTED").select(
        mule="actor", t_out=pl.col("ts").str.to_datetime(time_zone="UTC")
    )
    gap = (
        inflow.join(payout, on="mule")
        .filter(pl.col("t_out") >= pl.col("t_in"))
        .group_by("mule", "t_in")
        .agg(pl.col("t_out").min())
        .select(gap=pl.col("t_out") - pl.col("t_in"))
    )
    assert gap.height > 10 and gap["gap"].median() > timedelta(hours=12)


def test_hard_mode_same_config_same_bytes(tmp_path: Path) -> None:
    config = SimConfig(users=400, days=3, seed=3, hard=True)
    a, b = run(tmp_path / "a", config), run(tmp_path / "b", config)
    assert snapshot(a.out) == snapshot(b.out)
    for name in ("users", "orders", "losses"):
        left = pl.read_parquet(a.truth / f"{name}.parquet")
        assert left.equals(pl.read_parquet(b.truth / f"{name}.parquet")), name

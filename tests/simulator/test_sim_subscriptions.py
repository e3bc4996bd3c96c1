"""Subscriptions in the simulated world: members subscribe and renew once per period, card testers
burst failed first charges, mules' renewals fail; every step follows the API's billing rules."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

from simulator import SimConfig

from .conftest import field, read_events, run


@pytest.fixture(scope="module")
def month(tmp_path_factory: pytest.TempPathFactory) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Four weeks: long enough for a weekly plan's renewal to fail four times."""
    done = run(Path(tmp_path_factory.mktemp("sim_subs")), SimConfig(users=2000, days=28, seed=5))
    return read_events(done), pl.read_parquet(done.truth / "users.parquet")


SUBS = ("SUBSCRIPTION_STARTED", "SUBSCRIPTION_RENEWED", "SUBSCRIPTION_PAYMENT_FAILED")


def _subs(events: pl.DataFrame) -> pl.DataFrame:
    return events.filter(pl.col("et").str.starts_with("SUBSCRIPTION_")).with_columns(
        period=field("billing_period").cast(pl.Int64),
        attempt=field("billing_attempt").cast(pl.Int64),
        reason=field("cancel_reason"),
    )


def test_members_subscribe_and_renew_once_per_period(
    month: tuple[pl.DataFrame, pl.DataFrame],
) -> None:
    subs = _subs(month[0])
    counts = dict(subs.group_by("et").len().iter_rows())
    assert counts["SUBSCRIPTION_STARTED"] >= 50 and counts["SUBSCRIPTION_RENEWED"] >= 20, counts
    assert {"user", "unpaid"} <= set(subs["reason"].drop_nulls())
    renewed = subs.filter(pl.col("et") == "SUBSCRIPTION_RENEWED")
    assert renewed.select("subject", "period").is_duplicated().sum() == 0
    started = subs.filter(pl.col("et") == "SUBSCRIPTION_STARTED").select("subject", "ts")
    later = subs.filter(
        (pl.col("et") != "SUBSCRIPTION_STARTED") & (pl.col("period").fill_null(1) > 0)
    ).join(started, on="subject", how="left", suffix="_start")
    assert later["ts_start"].null_count() == 0  # every later step follows a start
    assert (later["ts"] > later["ts_start"]).all()
    failed = subs.filter((pl.col("et") == "SUBSCRIPTION_PAYMENT_FAILED") & (pl.col("period") > 0))
    assert failed["attempt"].max() == 4  # the fourth failure cancels
    cancels = subs.filter(pl.col("reason") == "unpaid")["subject"]
    fourth = failed.filter(pl.col("attempt") == 4)["subject"]
    assert sorted(cancels.to_list()) == sorted(fourth.to_list())


def test_card_testers_burst_failed_first_charges(events: pl.DataFrame, users: pl.DataFrame) -> None:
    first = _subs(events).filter(
        (pl.col("et") == "SUBSCRIPTION_PAYMENT_FAILED") & (pl.col("period") == 0)
    )
    who = first.join(users, left_on="actor", right_on="user_id")
    per_user = who.group_by("actor", "typology").len()
    testers = per_user.filter(pl.col("typology") == "card_testing")
    assert testers.height > 0 and testers["len"].median() >= 2  # type: ignore[operator]
    honest = per_user.filter(pl.col("typology").is_null())
    assert honest["len"].max() <= 3 if honest.height else True
    share = who.filter(pl.col("is_fraud")).height / max(who.height, 1)
    assert share > 0.5, share  # failed first charges are mostly fraud


def test_mules_renewals_fail_on_drained_wallets(month: tuple[pl.DataFrame, pl.DataFrame]) -> None:
    events, users = month
    subs = _subs(events).join(users, left_on="actor", right_on="user_id")
    renewals = subs.filter(pl.col("et").is_in(SUBS[1:]) & (pl.col("period") > 0))
    by = renewals.group_by(pl.col("typology").fill_null("honest")).agg(
        fail=(pl.col("et") == "SUBSCRIPTION_PAYMENT_FAILED").mean(), n=pl.len()
    )
    rate = dict(by.select("typology", "fail").iter_rows())
    assert rate["honest"] < 0.3, rate
    assert rate.get("money_mule", 1.0) > rate["honest"], rate

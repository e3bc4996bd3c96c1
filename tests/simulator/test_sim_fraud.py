"""Every fraud typology is in the ground truth and leaves the traces real ones leave."""

from __future__ import annotations

from datetime import timedelta

import polars as pl

from simulator.population import TYPOLOGY_NAMES

from .conftest import Run, field


def members(users: pl.DataFrame, typology: str) -> pl.DataFrame:
    return users.filter(pl.col("typology") == typology)


def test_every_typology_present(honest: Run, users: pl.DataFrame) -> None:
    counts = dict(users.group_by("typology").len().drop_nulls().iter_rows())
    assert set(counts) == {t for t in TYPOLOGY_NAMES if t}
    assert honest.summary.fraud_users_by_typology == counts
    share = users["is_fraud"].mean()
    assert 0.03 <= share <= 0.05
    assert users.filter(pl.col("is_fraud"))["fraud_from"].null_count() == 0
    assert (
        users.filter(~pl.col("is_fraud"))["fraud_from"].null_count()
        == users.height - users["is_fraud"].sum()
    )


def test_sybil_rings_share_devices_and_vouch_densely(
    events: pl.DataFrame, users: pl.DataFrame
) -> None:
    ring = members(users, "sybil_ring")
    reg = events.filter(pl.col("et") == "USER_REGISTERED").join(
        ring, left_on="actor", right_on="user_id"
    )
    per_ring = reg.group_by("fraud_cluster").agg(
        n=pl.len(),
        devices=pl.col("device").n_unique(),
        ips=pl.col("ip").n_unique(),
        span=pl.col("registered_at").max() - pl.col("registered_at").min(),
    )
    assert (per_ring["devices"] <= 3).all() and (per_ring["n"] >= 6).all()
    assert (per_ring["ips"] <= 2).all()
    assert (per_ring["span"] <= timedelta(hours=3)).all()
    ids = set(ring["user_id"])
    trust = events.filter(pl.col("et") == "TRUST_CONNECTION_ADDED")
    inside = trust.filter(pl.col("actor").is_in(ids) & pl.col("subject").is_in(ids)).height
    outward = trust.filter(pl.col("actor").is_in(ids) & ~pl.col("subject").is_in(ids)).height
    assert inside > 5 * ring.height and outward < inside / 5


def test_card_testers_burst_failures_across_cards(
    events: pl.DataFrame, users: pl.DataFrame
) -> None:
    failed = events.filter(pl.col("et") == "PAYMENT_FAILED").with_columns(
        pm=field("payment_method_id"), code=field("failure_code")
    )
    testers = failed.join(members(users, "card_testing"), left_on="actor", right_on="user_id")
    stats = testers.group_by("actor").agg(
        n=pl.len(), cards=pl.col("pm").n_unique(), codes=pl.col("code").n_unique()
    )
    assert stats.height == members(users, "card_testing").height
    assert (stats["n"] >= 8).all() and (stats["cards"] >= 4).all() and (stats["codes"] >= 3).all()
    honest = failed.join(users.filter(~pl.col("is_fraud")), left_on="actor", right_on="user_id")
    assert honest.group_by("actor").len()["len"].max() < 5
    big = events.filter(
        (pl.col("et") == "ORDER_PLACED") & pl.col("actor").is_in(testers["actor"].to_list())
    )
    assert big.height > 0


def test_mules_fan_in_and_cash_out_fast(events: pl.DataFrame, users: pl.DataFrame) -> None:
    mules = members(users, "money_mule")
    transfers = events.filter(pl.col("et") == "TRANSFER_SENT")
    fan_in = (
        transfers.join(mules, left_on="subject", right_on="user_id")
        .group_by("subject")
        .agg(senders=pl.col("actor").n_unique())
    )
    assert fan_in["senders"].median() >= 5
    honest_in = (
        transfers.join(users.filter(~pl.col("is_fraud")), left_on="subject", right_on="user_id")
        .group_by("subject")
        .agg(senders=pl.col("actor").n_unique())
    )
    assert honest_in["senders"].max() < fan_in["senders"].median()
    inflow = transfers.filter(pl.col("subject").is_in(mules["user_id"].to_list())).select(
        mule="subject", t_in=pl.col("ts").str.to_datetime(time_zone="UTC")
    )
    payout = events.filter(pl.col("et") == "PAYOUT_REQUESTED").select(
        mule="actor", t_out=pl.col("ts").str.to_datetime(time_zone="UTC")
    )
    gap = (
        inflow.join(payout, on="mule")
        .filter(pl.col("t_out") >= pl.col("t_in"))
        .group_by("mule", "t_in")
        .agg(pl.col("t_out").min())
        .select(gap=pl.col("t_out") - pl.col("t_in"))
    )
    assert gap["gap"].median() < timedelta(hours=6)


def test_takeover_sequence(events: pl.DataFrame, users: pl.DataFrame) -> None:
    victims = members(users, "account_takeover").filter(pl.col("preexisting"))
    assert victims.height == members(users, "account_takeover").height
    seen = 0
    for v in victims.iter_rows(named=True):
        t0 = v["fraud_from"].strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        mine = events.filter(
            ((pl.col("actor") == v["user_id"]) | (pl.col("subject") == v["user_id"]))
            & (pl.col("ts") >= t0)
        ).sort("ts")
        if mine.height == 0:
            continue  # taken over after the window closed for its events
        first = mine.row(0, named=True)
        assert first["et"] == "USER_LOGGED_IN" and first["country"] != v["country"]
        window = mine.filter(
            pl.col("ts") < (v["fraud_from"] + timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        )
        kinds = set(window["et"])
        assert {"DEVICE_ADDED", "CREDENTIAL_CHANGED"} <= kinds
        assert kinds & {"TRANSFER_SENT", "PAYOUT_REQUESTED"}
        seen += 1
    assert seen >= 3


def test_scam_sellers_underprice_and_get_disputed(
    events: pl.DataFrame, users: pl.DataFrame
) -> None:
    listings = events.filter(pl.col("et") == "LISTING_CREATED").with_columns(
        price=field("price").cast(pl.Float64), cat=field("category"), cur=field("currency")
    )
    fair = (
        listings.join(users.filter(~pl.col("is_fraud")), left_on="actor", right_on="user_id")
        .group_by("cat", "cur")
        .agg(med=pl.col("price").median())
    )
    scam = listings.join(members(users, "scam_seller"), left_on="actor", right_on="user_id")
    ratio = scam.join(fair, on=["cat", "cur"]).select(pl.col("price") / pl.col("med"))
    assert ratio.height > 10 and ratio.to_series().median() < 0.7
    disputes = events.filter(pl.col("et") == "DISPUTE_OPENED").with_columns(
        seller=field("seller_id"), reason=field("dispute_reason")
    )
    against = disputes.join(users, left_on="seller", right_on="user_id")
    scammed = against.filter(pl.col("typology").is_in(["scam_seller", "sybil_ring"]))
    assert scammed.height > 0 and set(scammed["reason"]) == {"not_received"}
    shipped = events.filter(
        (pl.col("et") == "ORDER_STATUS_CHANGED") & (field("order_status") == "shipped")
    )
    assert not shipped["actor"].is_in(members(users, "scam_seller")["user_id"].to_list()).any()


def test_spammers_message_strangers_and_get_reported(
    events: pl.DataFrame, users: pl.DataFrame
) -> None:
    spam = members(users, "spam_farm")
    msgs = events.filter(
        (pl.col("et") == "MESSAGE_SENT") & pl.col("actor").is_in(spam["user_id"].to_list())
    )
    assert msgs.height > 20 * spam.height
    # Nearly all carry links (the odd one is a reply in a conversation someone started).
    assert (msgs.select(field("has_link"))["payload"] == "true").mean() > 0.95
    negative = events.filter(pl.col("et").is_in(["USER_REPORTED", "USER_BLOCKED"]))
    per_user = negative.group_by("subject").len()
    spam_rate = (
        per_user.filter(pl.col("subject").is_in(spam["user_id"].to_list()))["len"].sum()
        / spam.height
    )
    honest_ids = users.filter(~pl.col("is_fraud"))["user_id"]
    honest_rate = per_user.filter(pl.col("subject").is_in(honest_ids.to_list()))["len"].sum() / len(
        honest_ids
    )
    assert spam_rate > 50 * honest_rate


def test_labels_are_partial_and_late(events: pl.DataFrame, users: pl.DataFrame) -> None:
    decisions = events.filter(pl.col("et") == "REVIEW_DECISION").with_columns(d=field("decision"))
    assert decisions.height > 0
    judged = decisions.join(users, left_on="subject", right_on="user_id")
    confirmed = judged.filter(pl.col("d") == "confirmed_fraud")
    assert confirmed["is_fraud"].mean() > 0.7
    labelled = set(judged["subject"]) | set(
        events.filter(pl.col("et") == "ACCOUNT_STATUS_CHANGED")["subject"]
    )
    frauds = set(users.filter(pl.col("is_fraud"))["user_id"])
    assert len(frauds - labelled) > len(frauds) / 3
    assert set(decisions["actor"]).isdisjoint(set(users["user_id"]))

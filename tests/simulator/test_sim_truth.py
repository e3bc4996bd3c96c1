"""The ground truth has what the feed oracle and the fraud evaluation need."""

from __future__ import annotations

import json

import numpy as np
import polars as pl

from core_api.events.payloads import POST_TOPICS

from .conftest import Run


def test_users_truth(honest: Run, users: pl.DataFrame) -> None:
    assert users.height == honest.config.users
    assert users["user_id"].n_unique() == users.height
    for col in (
        "user_id",
        "registered_at",
        "community",
        "country",
        "is_fraud",
        "typology",
        "fraud_from",
        "interests",
        "activity",
        "is_seller",
    ):
        assert col in users.columns
    interests = np.array(users["interests"].to_list())
    assert interests.shape == (users.height, len(POST_TOPICS))
    assert np.allclose(interests.sum(axis=1), 1.0)
    share_before = (users["registered_at"] < honest.start).mean()
    assert 0.4 < share_before < 0.6
    sizes = users.group_by("community").len()["len"]
    assert sizes.max() > 10 * sizes.min()  # very different community sizes
    assert users["activity"].max() > 10 * users["activity"].median()  # heavy-tailed


def test_posts_orders_and_manifest(honest: Run, events: pl.DataFrame) -> None:
    posts = pl.read_parquet(honest.truth / "posts.parquet")
    created = events.filter(pl.col("et") == "POST_CREATED")
    assert set(created["subject"]) <= set(posts["post_id"])
    assert posts["quality"].is_between(0, 1).all()
    assert set(posts["topic"]) <= set(POST_TOPICS)
    orders = pl.read_parquet(honest.truth / "orders.parquet")
    placed = events.filter(pl.col("et") == "ORDER_PLACED")
    assert set(placed["subject"]) <= set(orders["order_id"])
    in_transit = set(orders["order_id"]) - set(placed["subject"])
    assert len(in_transit) <= honest.summary.undelivered
    assert (orders["placed_at"] < honest.end).all()
    assert set(orders["mode"]) == {"honest", "scam_listing", "stolen_card", "fake_trade"}
    manifest = json.loads((honest.truth / "manifest.json").read_text())
    assert manifest["config"]["users"] == honest.config.users
    assert manifest["summary"]["events"] == honest.summary.events
    assert manifest["topics"] == list(POST_TOPICS)


def test_homophily_and_engagement_follow_affinity(
    honest: Run, events: pl.DataFrame, users: pl.DataFrame
) -> None:
    comm = dict(zip(users["user_id"], users["community"], strict=True))
    trust = events.filter(pl.col("et") == "TRUST_CONNECTION_ADDED")
    same = np.mean(
        [comm[a] == comm[b] for a, b in zip(trust["actor"], trust["subject"], strict=True)]
    )
    assert same > 0.6
    posts = pl.read_parquet(honest.truth / "posts.parquet").select("post_id", "topic", "quality")
    eng = events.filter(pl.col("et") == "POST_ENGAGED").select(
        "actor", post_id="subject", kind=pl.col("payload").str.json_path_match("$.engagement")
    )
    eng = eng.join(posts, on="post_id").join(
        users.select("user_id", "interests"), left_on="actor", right_on="user_id"
    )
    topic_idx = eng["topic"].replace_strict({t: i for i, t in enumerate(POST_TOPICS)})
    interest = np.array(eng["interests"].to_list())[np.arange(eng.height), topic_idx.to_numpy()]
    affinity = interest * eng["quality"].to_numpy()
    liked = (eng["kind"] == "like").to_numpy()
    viewed = (eng["kind"] == "view").to_numpy()
    assert affinity[liked].mean() > 1.5 * affinity[viewed].mean()

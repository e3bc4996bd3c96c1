"""Lookups run group by group of entities give the features of one pass over the whole lake."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import polars as pl
import pytest
from polars.testing import assert_frame_equal, assert_series_equal

import features.fraud.chunks as chunks
from features.fraud import action_queries, snapshot_queries, user_features
from features.fraud.chunks import entity_chunks
from features.fraud.events import read_fraud_events
from features.fraud.lookups import first_seen
from features.lake import read_flat
from tests.conftest import SmallLake

SMALL_GROUPS = 997  # rows a group: dozens of groups on the small lake


def test_entity_chunks_put_each_entity_in_one_group() -> None:
    codes = np.array([5, 3, -1, 5, 0, 7, 3, 2, 9, 9, 1])
    queries = np.array([3, -1, 9, 4, 3])
    groups = list(entity_chunks(codes, queries, rows=3))
    assert len(groups) == 4
    rows = np.concatenate([r for r, _ in groups])
    assert sorted(rows.tolist()) == [i for i, c in enumerate(codes) if c >= 0]
    assert sorted(np.concatenate([q for _, q in groups]).tolist()) == [0, 2, 3, 4]
    for r, q in groups:
        assert np.all(np.diff(r) > 0) and np.all(np.diff(q) > 0)  # input order kept
        others = np.concatenate([g for g, _ in groups if g is not r])
        assert not set(codes[r]) & set(codes[others])
        assert set(queries[q]) - {4} <= set(codes[r])


def test_first_seen_is_the_group_by_and_join_it_replaces(monkeypatch: pytest.MonkeyPatch) -> None:
    t0 = datetime(2026, 3, 1, tzinfo=UTC)
    seen = pl.DataFrame(
        {
            "user_id": [1, 1, 2, 1, 2, None, 3],
            "device_id": [10, 11, 10, 10, None, 10, 12],
            "at": [t0 + timedelta(hours=h) for h in (5, 2, 7, 1, 0, 0, 3)],
        }
    )
    queries = pl.DataFrame(
        {"user_id": [1, 2, 2, 3, None, 1], "device_id": [10, 10, None, 11, 10, 11]}
    )
    first = seen.group_by("user_id", "device_id").agg(pl.col("at").min().alias("at"))
    expected = queries.join(first, on=["user_id", "device_id"], how="left", maintain_order="left")
    got = first_seen(seen, queries, by="user_id", of="device_id", at="at")
    assert_series_equal(got, expected["at"])
    monkeypatch.setattr(chunks, "CHUNK_ROWS", 2)  # four groups of users
    assert_series_equal(first_seen(seen, queries, by="user_id", of="device_id", at="at"), got)
    assert got.null_count() == 3
    users = seen.drop_nulls("device_id").group_by("user_id").agg(pl.col("at").min())
    expected = queries.join(users, on="user_id", how="left", maintain_order="left")["at"]
    used = seen.with_columns(
        pl.when(pl.col("device_id").is_not_null()).then("user_id").alias("user_id")
    )
    assert_series_equal(first_seen(used, queries, by="user_id", at="at"), expected)


def test_user_features_in_small_groups_of_entities_are_the_same(
    small_lake: SmallLake, monkeypatch: pytest.MonkeyPatch
) -> None:
    start = datetime.combine(small_lake.start, datetime.min.time(), tzinfo=UTC)
    cut = start + timedelta(days=small_lake.days - 1)
    events = read_fraud_events(small_lake.events, until=cut)
    assert events.height > 20 * SMALL_GROUPS
    queries = pl.concat(
        [
            action_queries(read_flat(small_lake.events, until=cut)).drop("event_id", "event_type"),
            *(snapshot_queries(events, cut - timedelta(days=d)) for d in (0, 4)),
        ],
        how="diagonal_relaxed",
    )
    whole = user_features(events, queries)
    monkeypatch.setattr(chunks, "CHUNK_ROWS", SMALL_GROUPS)
    assert_frame_equal(user_features(events, queries), whole, check_exact=True)

"""The fraud features' compact read gives the flat read's values, and the same features."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from features.fraud import observed_labels, snapshot_queries, user_features
from features.fraud.events import FRAUD_SCHEMA, read_fraud_events
from features.fraud.windows import key_codes
from features.lake import USER_SUBJECTS, read_flat
from tests.conftest import SmallLake


@pytest.fixture(scope="module")
def cut(small_lake: SmallLake) -> datetime:
    start = datetime.combine(small_lake.start, datetime.min.time(), tzinfo=UTC)
    return start + timedelta(days=small_lake.days - 2, hours=7)


def test_compact_read_holds_the_flat_reads_values(small_lake: SmallLake, cut: datetime) -> None:
    compact = read_fraud_events(small_lake.events, until=cut)
    flat = read_flat(small_lake.events, until=cut)
    assert compact.schema == pl.Schema(FRAUD_SCHEMA)
    expected = flat.select(
        *(
            pl.when(pl.col("event_type").is_in(list(USER_SUBJECTS))).then("subject_id")
            if name == "subject_id"
            else pl.col(name).cast(pl.Float64)
            if name in ("amount", "price")
            else pl.col(name)
            for name in FRAUD_SCHEMA
        )
    )
    assert compact.height == flat.height > 0
    assert_frame_equal(compact.with_columns(pl.col(pl.Categorical).cast(pl.String)), expected)


def test_compact_read_gives_the_same_features_and_labels(
    small_lake: SmallLake, cut: datetime
) -> None:
    compact = read_fraud_events(small_lake.events, until=cut)
    flat = read_flat(small_lake.events, until=cut)
    times = [cut - timedelta(days=d) for d in (0, 3)]
    queries = pl.concat([snapshot_queries(flat, t) for t in times])
    assert_frame_equal(pl.concat([snapshot_queries(compact, t) for t in times]), queries)
    assert_frame_equal(user_features(compact, queries), user_features(flat, queries))
    assert_frame_equal(observed_labels(compact), observed_labels(flat))


def test_key_codes_of_categorical_and_text_keys_agree() -> None:
    cat = pl.Series(["b", None, "a", "b"]).cast(pl.Categorical)
    text = pl.Series(["a", "c", None])
    got_cat, got_text = key_codes(cat, text)
    assert got_cat[1] == got_text[2] == -1
    assert got_cat[0] == got_cat[3] != got_cat[2] == got_text[0]
    assert got_text[1] not in (got_cat[0], got_cat[2], -1)

"""The engagements' compact read (ids Categorical, the kind an Enum, a row number for event_id,
a few lake days per query) holds the lake's values, and the features built on it are the ones
text ids give, to the bit."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, time, timedelta

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from features.feed import ENGAGEMENT_KINDS, history_features, labelled_groups, load_inputs
from features.feed import inputs as feed_inputs
from features.feed.inputs import read_engagements, trust_snapshots
from features.feed.training import LABEL_WINDOW
from features.lake import read_events
from tests.conftest import SmallLake

TEXT = ("viewer_id", "post_id", "author_id", "engagement")


def _as_text(frame: pl.DataFrame) -> pl.DataFrame:
    return frame.cast(dict.fromkeys(TEXT, pl.String))


def test_compact_engagements_hold_the_lakes_values(
    small_lake: SmallLake, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = datetime.combine(small_lake.start, time(), tzinfo=UTC) + timedelta(days=7, hours=5)
    monkeypatch.setattr(feed_inputs, "READ_BATCH_BYTES", 1 << 20)  # a query per simulated day
    assert len(feed_inputs._read_windows(small_lake.events, before)) > 5
    got = read_engagements(small_lake.events, before=before)
    assert [got.schema[c] for c in TEXT] == [pl.Categorical()] * 3 + [pl.Enum(ENGAGEMENT_KINDS)]
    assert got.get_column("event_id").is_unique().all()
    columns = feed_inputs.ENGAGEMENT_COLUMNS
    plain = read_events(small_lake.events, columns, types=("POST_ENGAGED",), before=before)
    assert plain.height > 10_000 and plain.get_column("engaged_at").max() < before
    grade = pl.col("engagement").replace_strict(
        {k: i for i, k in enumerate(ENGAGEMENT_KINDS)}, return_dtype=pl.Int8
    )
    want = plain.with_columns(grade=grade).sort(plain.columns)
    assert_frame_equal(_as_text(got.drop("event_id")).sort(plain.columns), want)


def test_features_are_the_same_with_text_ids(small_lake: SmallLake) -> None:
    end = datetime.combine(small_lake.start, time(), tzinfo=UTC) + timedelta(days=8)
    compact = load_inputs(small_lake.events, before=end, labels_until=end + LABEL_WINDOW)
    assert compact.outcomes is not None and compact.dwell is not None
    text = replace(
        compact,
        engagements=_as_text(compact.engagements),
        outcomes=_as_text(compact.outcomes),
    )
    trust = trust_snapshots(small_lake.events, [end - timedelta(days=2)])
    start = end - timedelta(days=1)
    got = history_features(labelled_groups(compact, start=start, trust=trust), compact, trust=trust)
    want = history_features(labelled_groups(text, start=start, trust=trust), text, trust=trust)
    assert got.height > 1000 and got.get_column("viewer_trust").is_not_null().any()
    assert_frame_equal(got, want)

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from pathlib import Path

import polars as pl

from features.feed import feed_features, load_inputs, training_groups
from features.feed.schema import FEATURES, TRAINING, polars_schema
from tests.conftest import SmallLake
from tests.features.feed.conftest import T1, pid
from tests.features.feed.test_feed_features import TRUST
from tests.features.platform_graph.pgraph_lakes import T0, D, H, uid


def test_training_groups_on_a_hand_made_lake(feed_lake: Path) -> None:
    groups = training_groups(feed_lake, start=T0, end=T1 + D, trust=TRUST)
    assert dict(groups.schema) == polars_schema(TRAINING)
    keys = ["group_id", "viewer_id", "post_id", "feed_position", "label", "request_at"]
    got = list(groups.select(keys).iter_rows())
    vic, cat = uid("vic"), uid("cat")
    assert got == [
        (0, vic, pid("amy2"), 0, 0, T1),  # liked two days later: outside the label window
        (0, vic, pid("ben"), 1, 2, T1),  # liked, then commented
        (0, vic, pid("fox"), 2, 3, T1),
        (1, cat, pid("fox"), 0, 0, T1 + H),
        (2, vic, pid("amy1"), 0, 1, T1 + 2 * H),
        (2, vic, pid("ben"), 1, 0, T1 + 2 * H),  # the comment came before this impression
    ]
    likes = {
        (g, p): n for g, p, n in groups.select("group_id", "post_id", "post_likes").iter_rows()
    }
    assert likes[(0, pid("ben"))] == 1  # vic's own like in the feed comes after request_at
    assert likes[(2, pid("ben"))] == 2


def test_small_lake_training_set_is_point_in_time(small_lake: SmallLake) -> None:
    start = datetime.combine(small_lake.start, time(), tzinfo=UTC)
    cut, end = start + timedelta(days=6), start + timedelta(days=small_lake.days)
    full = training_groups(small_lake.events, start=start + timedelta(days=4), end=end)
    features = [f.name for f in FEATURES]
    early = full.filter(pl.col("request_at") < cut)
    assert early.height > 1000
    # The lake as it stood at ``cut``: features of earlier requests are the same.
    then = feed_features(
        early.select("viewer_id", "post_id", "request_at"),
        load_inputs(small_lake.events, before=cut),
    )
    assert then.select(features).equals(early.select(features))
    assert full.group_by("group_id").agg(pl.col("viewer_id").n_unique())["viewer_id"].max() == 1
    assert set(full["label"].unique()) == {0, 1, 2, 3}

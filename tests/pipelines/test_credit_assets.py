"""credit_limits after user_scores, checked, and published on the same score lines."""

from __future__ import annotations

import warnings

import dagster

from pipelines.assets.credit import credit_limits_asset
from pipelines.assets.models import user_scores_asset
from pipelines.assets.serving import published_scores
from pipelines.resources import Storage
from serving.store import Ask
from tests.pipelines.conftest import TrainedDay

warnings.filterwarnings("ignore", module="dagster")


def test_credit_limits_are_checked_and_published_with_the_scores(trained_day: TrainedDay) -> None:
    storage = Storage(trained_day.settings())
    result = dagster.materialize(
        [user_scores_asset, credit_limits_asset, published_scores],
        resources={"storage": storage},
        partition_key=trained_day.day.isoformat(),
    )
    assert result.success
    checks = {c.check_name: c for c in result.get_asset_check_evaluations()}
    assert checks["limits_sane"].passed, checks["limits_sane"].description
    assert checks["serves_what_was_scored"].passed, checks["serves_what_was_scored"].description
    limits = storage.features.read("credit_limits", trained_day.day)
    scores = storage.features.read("user_scores", trained_day.day)
    assert limits.height == scores.height
    lent = limits.filter(limits["credit_limit"] > 0).sort("credit_limit", descending=True)
    assert lent.height > 0  # a simulated platform has sellers with a clean record
    top = lent.row(0, named=True)
    store = storage.online_store()
    try:
        record = store.fetch(Ask(user_id=top["user_id"])).record
    finally:
        store.close()
    assert record is not None and record.credit is not None
    assert record.credit.limit == top["credit_limit"]
    assert list(record.credit.reasons) == top["credit_reasons"]

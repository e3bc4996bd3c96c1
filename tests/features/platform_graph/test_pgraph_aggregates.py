"""Neighbours' features per relation group, worked out by hand on a four-user graph."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from pathlib import Path

import polars as pl
import pytest

from features.platform_graph.aggregates import neighbour_aggregates, with_neighbour_features
from features.platform_graph.schema import NEIGHBOUR_COLUMNS, NEIGHBOUR_FEATURES
from features.schema import TABLES
from tests.features.platform_graph.pgraph_lakes import T0, D, H, ev, register, uid, write_lake

T1, T2 = datetime(2026, 1, 1, tzinfo=UTC), datetime(2026, 1, 3, tzinfo=UTC)


def _rows(
    at: datetime, ages: dict[str, float], *, restricted: tuple[str, ...] = ()
) -> pl.DataFrame:
    """One snapshot's rows: every ``NEIGHBOUR_COLUMNS`` entry 0 except the age and restriction."""
    users = list(ages)
    frame = pl.DataFrame({"user_id": users, "at": [at] * len(users)})
    return frame.with_columns(
        *(pl.lit(0.0).alias(c) for c in NEIGHBOUR_COLUMNS),
    ).with_columns(
        account_age_days=pl.Series(list(ages.values())),
        account_restricted=pl.Series([int(u in restricted) for u in users], dtype=pl.Int8),
        failed_payment_ratio_30d=pl.Series([None] * len(users), dtype=pl.Float64),
    )


def _edges(*triples: tuple[str, str, str]) -> pl.DataFrame:
    schema = {"src": pl.String, "dst": pl.String, "relation": pl.String}
    return pl.DataFrame(triples, schema=schema, orient="row")


def test_pgraph_aggregates_group_relations_and_summarise_each_neighbour_once() -> None:
    rows = _rows(T1, {"a": 10.0, "b": 30.0, "c": 200.0, "d": 5.0}, restricted=("c",))
    edges = _edges(
        ("a", "b", "shared_device"),
        ("b", "a", "shared_device"),  # the same pair both ways: one neighbour
        ("a", "c", "shared_ip"),
        ("a", "d", "money"),
        ("b", "c", "friend"),
        ("a", "stranger", "shared_ip"),  # not a user of this snapshot: ignored
    )
    out = neighbour_aggregates(rows, edges)
    a, b, d = (out.row(i, named=True) for i in (0, 1, 3))
    assert a["nb_shared_count"] == 2
    assert a["nb_shared_mean_account_age_days"] == pytest.approx(115.0)
    assert a["nb_shared_max_account_age_days"] == 200.0
    assert a["nb_shared_max_account_restricted"] == 1.0
    assert a["nb_money_count"] == 1 and a["nb_money_max_account_age_days"] == 5.0
    assert d["nb_money_mean_account_age_days"] == 10.0  # money edges count both ways
    assert b["nb_social_count"] == 1 and b["nb_social_mean_account_restricted"] == 1.0
    # a missing value counts as 0; no neighbours in a group is null, not 0
    assert a["nb_shared_max_failed_payment_ratio_30d"] == 0.0
    assert a["nb_social_count"] == 0 and a["nb_social_mean_account_age_days"] is None
    assert out.columns == [f.name for f in NEIGHBOUR_FEATURES]


def test_pgraph_aggregates_use_each_snapshots_own_graph_and_keep_row_order() -> None:
    graphs = {T1: _edges(), T2: _edges(("a", "b", "friend"))}
    rows = pl.concat(
        [_rows(T2, {"b": 7.0, "a": 3.0}), _rows(T1, {"a": 1.0, "b": 2.0})]
    ).with_columns(marker=pl.Series([1, 2, 3, 4]))
    out = with_neighbour_features(rows, Path("unused"), edges_at=graphs.__getitem__)
    assert out["marker"].to_list() == [1, 2, 3, 4]
    assert out["nb_social_mean_account_age_days"].to_list() == [3.0, 7.0, None, None]


def test_pgraph_aggregates_match_the_fraud_features_contract(tmp_path: Path) -> None:
    def login(name: str, at: datetime, device: str) -> bytes:
        session = str(uuid.uuid4())
        return ev(
            "USER_LOGGED_IN",
            at,
            by=name,
            device=device,
            ip="198.51.100.7",
            login_method="password",
            mfa_used=False,
            session_id=session,
        )

    events = write_lake(
        tmp_path,
        [
            register("alice", T0),
            register("bob", T0 + H),
            login("alice", T0 + 2 * H, "phone-1"),
            login("bob", T0 + D, "phone-1"),  # the shared phone links them from here on
        ],
    )
    early, late = T0 + 3 * H, T0 + 2 * D
    rows = pl.concat([_rows(t, {uid("alice"): 1.0, uid("bob"): 2.0}) for t in (early, late)])
    out = with_neighbour_features(rows, events)
    assert out["nb_shared_count"].to_list() == [0, 0, 1, 1]
    fraud_table = {f.name for f in TABLES["fraud_features"]}
    assert {f.name for f in NEIGHBOUR_FEATURES} <= fraud_table
    assert out.select(f.name for f in NEIGHBOUR_FEATURES).schema == pl.Schema(
        {f.name: f.dtype for f in NEIGHBOUR_FEATURES}
    )


def test_pgraph_aggregates_of_no_rows_keep_the_columns() -> None:
    empty = _rows(T1, {}).clear()
    out = with_neighbour_features(empty, Path("unused"), edges_at=lambda t: _edges())
    assert out.height == 0
    assert set(out.columns) >= {f.name for f in NEIGHBOUR_FEATURES}

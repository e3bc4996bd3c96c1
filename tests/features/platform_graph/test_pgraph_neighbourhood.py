from __future__ import annotations

import uuid
from datetime import UTC, datetime, time, timedelta
from pathlib import Path

import numpy as np
import polars as pl
import pytest

from features.platform_graph import (
    flag_history,
    flagged_as_of,
    flagged_users,
    neighbourhood_stats,
    user_signals,
)
from features.platform_graph.schema import (
    CLUSTER_SIGNALS,
    FLAG_HISTORY,
    NEIGHBOURHOOD_STATS,
    RING_SIGNALS,
    polars_schema,
)
from features.trust_engine.graph import RELATIONS, SignedGraph
from tests.conftest import SmallLake
from tests.features.platform_graph.pgraph_lakes import T0, H, ev, uid, write_lake

US = timedelta(microseconds=1)


def _review(name: str, at: datetime, *, decision: str) -> bytes:
    return ev(
        "REVIEW_DECISION", at, by="analyst", on=name, decision=decision, case_id=str(uuid.uuid4())
    )


def _status(name: str, at: datetime, *, status: str) -> bytes:
    return ev(
        "ACCOUNT_STATUS_CHANGED",
        at,
        by="system",
        on=name,
        account_status=status,
        reason_code="test",
    )


@pytest.fixture(scope="module")
def flags_lake(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_lake(
        tmp_path_factory.mktemp("pgraph_flags"),
        [
            _review("mallory", T0, decision="confirmed_fraud"),
            _status("oscar", T0 + H, status="banned"),
            _status("oscar", T0 + 3 * H, status="active"),
            _review("peggy", T0, decision="confirmed_fraud"),
            _review("peggy", T0 + 2 * H, decision="cleared"),
            _review("trent", T0, decision="escalated"),
            _status("trent", T0 + H, status="restricted"),
            _status("trent", T0 + 2 * H, status="suspended"),
        ],
    )


def _names(users: set[str]) -> set[str]:
    back = {uid(n): n for n in ("mallory", "oscar", "peggy", "trent")}
    return {back[u] for u in users}


def test_flags_as_known_at_each_time(flags_lake: Path) -> None:
    assert dict(flag_history(flags_lake).schema) == polars_schema(FLAG_HISTORY)
    assert _names(flagged_users(flags_lake, T0)) == set()  # strictly before
    assert _names(flagged_users(flags_lake, T0 + US)) == {"mallory", "peggy"}
    assert _names(flagged_users(flags_lake, T0 + 2 * H + US)) == {"mallory", "oscar"}
    assert _names(flagged_users(flags_lake, T0 + 4 * H)) == {"mallory"}
    wider = flagged_users(flags_lake, T0 + 4 * H, statuses=("banned", "suspended"))
    assert _names(wider) == {"mallory", "trent"}


def test_flagged_as_of_joins_per_row(flags_lake: Path) -> None:
    keys = pl.DataFrame(
        {
            "who": [uid("oscar"), uid("oscar"), uid("oscar"), uid("nobody")],
            "at": [T0 + H, T0 + 2 * H, T0 + 4 * H, T0 + 4 * H],
        },
    )
    out = flagged_as_of(keys, flag_history(flags_lake), user="who", at="at")
    assert out["flagged"].to_list() == [False, True, False, False]
    assert out.select("who", "at").equals(keys)


def test_neighbourhood_stats_by_hand() -> None:
    r = {name: RELATIONS.index(name) for name in RELATIONS}
    edges = [  # (src, dst, relation, weight)
        ("a", "b", "friend", 0.8),
        ("b", "a", "follow", 0.2),
        ("a", "c", "friend", 0.5),
        ("c", "a", "report", -1.0),
        ("d", "a", "block", -0.5),
        ("e", "a", "money", 0.4),
        ("a", "d", "shared_device", 1.0),
        ("d", "a", "shared_device", 1.0),
    ]
    src, dst, rel, w = zip(*edges, strict=True)
    graph = SignedGraph.from_edges(
        np.array(src),
        np.array(dst),
        weight=np.array(w),
        relation=np.array([r[x] for x in rel]),
        ids=np.array(["f"]),
    )
    stats = neighbourhood_stats(graph, flagged={"d"})
    assert dict(stats.schema) == polars_schema(NEIGHBOURHOOD_STATS)
    a = stats.filter(pl.col("user_id") == "a").row(0, named=True)
    assert (a["out_friend"], a["in_follow"], a["in_report"], a["in_shared_device"]) == (2, 1, 1, 1)
    assert (a["trust_out"], a["trust_in"]) == (2, 1)
    assert a["trust_reciprocity"] == pytest.approx(0.5)  # b trusts back, c does not
    assert a["negative_in_share"] == pytest.approx(2 / 4)  # report + block over 4 statements
    assert a["in_weight_positive"] == pytest.approx(0.6)
    assert a["in_weight_negative"] == pytest.approx(1.5)
    assert (a["neighbours"], a["flagged_neighbours"]) == (4, 1)
    assert a["flagged_neighbour_share"] == pytest.approx(0.25)
    assert (a["shared_neighbours"], a["shared_flagged_neighbour_share"]) == (1, 1.0)
    f = stats.filter(pl.col("user_id") == "f").row(0, named=True)
    assert f["neighbours"] == 0 and f["trust_reciprocity"] is None
    assert f["flagged_neighbour_share"] is None
    assert stats.filter(pl.col("is_flagged"))["user_id"].to_list() == ["d"]


def test_user_signals_follow_the_schema(small_lake: SmallLake) -> None:
    end = datetime.combine(small_lake.start, time(), tzinfo=UTC) + timedelta(days=small_lake.days)
    signals = user_signals(small_lake.events, end)
    expected = {
        **polars_schema(NEIGHBOURHOOD_STATS),
        **polars_schema(RING_SIGNALS),
        **polars_schema(CLUSTER_SIGNALS),
    }
    assert list(signals.schema) == list(expected)
    assert dict(signals.schema) == expected
    columns = (*NEIGHBOURHOOD_STATS, *RING_SIGNALS, *CLUSTER_SIGNALS)
    never_null = list(dict.fromkeys(c.name for c in columns if not c.nullable))
    assert signals.select(never_null).null_count().sum_horizontal().item() == 0
    assert signals["user_id"].is_unique().all()
    users = pl.read_parquet(small_lake.truth / "users.parquet")
    assert set(users["user_id"]) <= set(signals["user_id"])


def test_neighbourhood_stats_keep_float_weights_without_negative_edges() -> None:
    # A young platform (e.g. one driven through the API) has no report or block yet.
    follow = RELATIONS.index("follow")
    graph = SignedGraph.from_edges(
        np.array(["a", "b"]),
        np.array(["b", "a"]),
        weight=np.array([0.2, 0.2]),
        relation=np.array([follow, follow]),
    )
    stats = neighbourhood_stats(graph)
    assert dict(stats.schema) == polars_schema(NEIGHBOURHOOD_STATS)
    assert stats["in_weight_negative"].to_list() == [0.0, 0.0]

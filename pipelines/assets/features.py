"""Feature assets, daily partitions by snapshot day D (``pipelines.partitions``).

These stay whole, not sharded by user (``pipelines.assets.scoring`` is what is): the trust graph
and its propagation need every edge of the snapshot in one process, and ``fraud_features``'
neighbour aggregates need every user's row beside the edges. What that costs in memory: the
snapshot's aggregated edges (``src, dst, weight, time, events`` per pair and relation) take about
90 bytes an edge as a polars frame, and edges grow with users x average degree (4.6 edges a user
on the simulated platform: ~0.4 GB at 1M users); the graph engine's own arrays add about as much
again (integer ids, CSR). Linear in edges at a fixed degree, so one machine's memory bounds the
graph, not the users' count alone; past it, the next step is a graph engine across machines
(GraphFrames/Spark, or partitioned PageRank), not more shards.
No ``from __future__ import annotations`` here: Dagster inspects the context annotation.
"""

from datetime import timedelta

import polars as pl
from dagster import (
    AssetCheckResult,
    AssetCheckSeverity,
    AssetCheckSpec,
    AssetExecutionContext,
    MaterializeResult,
    asset,
)

from features import checks
from features.feed.training import training_groups
from features.fraud import attach_trust_scores, snapshot_queries, user_features
from features.fraud.events import read_fraud_events
from features.platform_graph.aggregates import with_neighbour_features
from features.platform_graph.store import (
    build_snapshot,
    read_snapshot_edges,
    read_snapshot_nodes,
    snapshot_time,
)
from features.platform_graph.trust import platform_trust
from features.schema import TABLES, problems
from models.risk.data import trust_inputs
from pipelines.partitions import AFTER_LANDING, SNAPSHOT_DAYS, partition_day
from pipelines.resources import StorageParam


def _schema_check(name: str, frame: pl.DataFrame, table: str) -> AssetCheckResult:
    found = problems(frame, TABLES[table])
    return AssetCheckResult(
        check_name=name,
        passed=not found,
        severity=AssetCheckSeverity.ERROR,
        description="; ".join(found[:10]) or f"{frame.height} rows match {table}",
        metadata={"rows": frame.height, "problems": len(found)},
    )


@asset(partitions_def=SNAPSHOT_DAYS, deps=[AFTER_LANDING], group_name="features", kinds={"parquet"})
def trust_graph(context: AssetExecutionContext, storage: StorageParam) -> MaterializeResult:
    """Signed multi-relation user graph of the events before D, one partition per relation."""
    # Graph-wide, unsharded: every edge of the snapshot at once (module docstring: ~90 B an edge).
    # Relations: trust, follows, money, shared devices and IPs, reports and blocks.
    day = partition_day(context)
    path = build_snapshot(storage.lake.events_dir, storage.graph_snapshots, snapshot_date=day)
    edges = read_snapshot_edges(storage.graph_snapshots, day)
    counts = edges.group_by("relation").len().sort("relation")
    return MaterializeResult(
        metadata={
            "path": str(path),
            "edges": edges.height,
            **{f"edges_{r}": n for r, n in counts.iter_rows()},
        }
    )


@asset(
    partitions_def=SNAPSHOT_DAYS,
    deps=[trust_graph],
    group_name="features",
    kinds={"parquet"},
    check_specs=[
        AssetCheckSpec(
            "schema",
            asset="trust_scores",
            blocking=True,
            description="every column of features.schema.TRUST_SCORES, no stray nulls",
        ),
        AssetCheckSpec(
            "ranges",
            asset="trust_scores",
            blocking=True,
            description="trust, engine_trust, graph_risk, reach, fairness in [0, 1]",
        ),
        AssetCheckSpec(
            "drift",
            asset="trust_scores",
            description="under 20% of users moved by more than 0.3 since the last one",
        ),
    ],
)
def trust_scores(context: AssetExecutionContext, storage: StorageParam):
    """Per-user trust (features.platform_graph.trust) as of D, with its parts and graph signals."""
    # Graph-wide, unsharded: propagation walks the whole graph, so every edge is in memory.
    day = partition_day(context)
    root = storage.graph_snapshots
    scores = platform_trust(
        storage.lake.events_dir,
        snapshot_time(day),
        edges=read_snapshot_edges(root, day),
        nodes=read_snapshot_nodes(root, day),
    )
    path = storage.features.write("trust_scores", day, frame=scores)
    yield MaterializeResult(
        metadata={
            "path": str(path),
            "users": scores.height,
            "mean_trust": float(scores["trust"].mean() or 0.0),
            "seeds": int(scores["seed"].sum()),
        }
    )
    yield _schema_check("schema", scores, "trust_scores")
    bad = checks.out_of_range(
        scores,
        dict.fromkeys(("trust", "engine_trust", "graph_risk", "reach", "fairness"), (0.0, 1.0)),
    )
    yield AssetCheckResult(
        check_name="ranges",
        passed=not bad,
        severity=AssetCheckSeverity.ERROR,
        description=str(bad) or "all in range",
        metadata=bad,
    )
    before = storage.features.previous("trust_scores", day)
    moved = (
        {"shared": 0.0}
        if before is None
        else checks.drift(
            scores, storage.features.read("trust_scores", before), key="user_id", column="trust"
        )
    )
    yield AssetCheckResult(
        check_name="drift",
        passed=moved.get("moved_share", 0.0) < 0.2,
        severity=AssetCheckSeverity.WARN,
        metadata={**moved, "previous": str(before)},
    )


@asset(
    partitions_def=SNAPSHOT_DAYS,
    deps=[trust_scores],
    group_name="features",
    kinds={"parquet"},
    check_specs=[
        AssetCheckSpec(
            "schema",
            asset="fraud_features",
            blocking=True,
            description="every platform fraud feature, no stray nulls",
        )
    ],
)
def fraud_features(context: AssetExecutionContext, storage: StorageParam):
    """Every registered user's point-in-time fraud features as of D, with trust scores attached."""
    # Unsharded: the per-user part could be cut by shard (snapshot_queries(users=...)), but the
    # neighbour aggregates read every user's row and the whole graph; not split yet.
    day = partition_day(context)
    at = snapshot_time(day)
    events = read_fraud_events(storage.lake.events_dir, until=at - timedelta(microseconds=1))
    rows = user_features(events, snapshot_queries(events, at))
    del events  # the rows are all the rest needs: the events' memory is free for it
    # The neighbours' graph is day D's snapshot, which trust_graph (upstream) already stored.
    stored = read_snapshot_edges(storage.graph_snapshots, day)
    rows = with_neighbour_features(rows, storage.lake.events_dir, edges_at=lambda _at: stored)
    scores = storage.features.read_until("trust_scores", day)
    if scores is not None:
        trust = trust_inputs(scores)
        rows = attach_trust_scores(rows, trust, strict=False)
    path = storage.features.write("fraud_features", day, frame=rows)
    yield MaterializeResult(metadata={"path": str(path), "users": rows.height})
    yield _schema_check("schema", rows, "fraud_features")


@asset(
    partitions_def=SNAPSHOT_DAYS,
    deps=[trust_scores],
    group_name="features",
    kinds={"parquet"},
    check_specs=[
        AssetCheckSpec(
            "schema",
            asset="feed_training",
            blocking=True,
            description="every feed training column, no stray nulls",
        ),
        AssetCheckSpec(
            "labels",
            asset="feed_training",
            blocking=True,
            description="labels in 0..3 and every group has an impression",
        ),
    ],
)
def feed_training(context: AssetExecutionContext, storage: StorageParam):
    """Labelled feed candidate groups served on day D-2 (labels need a day to arrive)."""
    day = partition_day(context)
    start = snapshot_time(day - timedelta(days=2))
    scores = storage.features.read_until("trust_scores", day)
    trust = None if scores is None else scores.select("user_id", "snapshot_at", "trust")
    groups = training_groups(
        storage.lake.events_dir, start=start, end=start + timedelta(days=1), trust=trust
    )
    path = storage.features.write("feed_training", day, frame=groups)
    yield MaterializeResult(
        metadata={"path": str(path), "rows": groups.height, "groups": groups["group_id"].n_unique()}
    )
    yield _schema_check("schema", groups, "feed_training")
    labels_ok = groups.height == 0 or bool(groups["label"].is_between(0, 3).all())
    yield AssetCheckResult(check_name="labels", passed=labels_ok, severity=AssetCheckSeverity.ERROR)

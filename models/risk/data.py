"""Training rows for the platform fraud model: who, as of when, with what was known, and what
happened next (as the platform observed it).

A row is (user, snapshot time t). Features: ``features.fraud.user_features`` at t, plus the
trust scores of the latest snapshot at or before t. Label: a positive observed label for the user
in (t, t + horizon], counted only if the label event happened by ``as_of`` (the training cut-off).
Label 0 means *unlabelled*, not honest (the model is PU: ``models.risk.pu``); rows whose horizon
reaches past ``as_of`` carry ``label_complete`` False. Users already labelled fraudulent at t are
left out: there is nothing left to predict about them.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import datetime, timedelta
from pathlib import Path

import polars as pl

from features.fraud import (
    USER_FEATURES,
    attach_trust_scores,
    observed_labels,
    snapshot_queries,
    user_features,
)
from features.fraud.events import read_fraud_events
from features.lake import EventSource
from features.platform_graph.aggregates import NEIGHBOUR_FEATURES, with_neighbour_features
from features.platform_graph.trust import platform_trust
from features.schema import TRUST_SCORES
from models.risk.labels import labelled as _labelled

# Every graph signal of the trust snapshot is an input: trust informs the risk, it doesn't compete
# with it. Left out: ids (components, communities, blocks) and the user's own flag (a label).
_NOT_SIGNALS = {"user_id", "snapshot_at", "component", "community", "is_flagged"}
TRUST_COLUMNS = tuple(
    f.name
    for f in TRUST_SCORES
    if f.name not in _NOT_SIGNALS and not (f.name.startswith("ring_") and f.name.endswith("_block"))
)
# Columns that restate a label (a review, a ban, a chargeback, a lost dispute) or the account's
# status after one: as inputs they would teach the model to find the already-found.
LABEL_ECHOES = frozenset(
    {
        "fraud_confirmed_n_30d",
        "fraud_confirmed_n_ever",
        "fraud_cleared_n_30d",
        "fraud_cleared_n_ever",
        "account_restricted",
        "chargebacks_n_30d",
        "chargebacks_n_ever",
        "chargebacks_as_seller_n_30d",
        "chargebacks_as_seller_n_ever",
        "disputes_lost_n_30d",
        "disputes_lost_n_ever",
    }
)
FEATURES = (
    [f.name for f in USER_FEATURES if f.name not in LABEL_ECHOES]
    + [f"trust_{c}" for c in TRUST_COLUMNS]
    + [f.name for f in NEIGHBOUR_FEATURES]
)


def trust_inputs(scores: pl.DataFrame) -> pl.DataFrame:
    """``user_id, snapshot_at`` and every ``TRUST_COLUMNS`` signal as Float64 (one dtype whether
    a snapshot was stored or computed just now)."""
    return scores.select(
        "user_id", "snapshot_at", *(pl.col(c).cast(pl.Float64) for c in TRUST_COLUMNS)
    )


def snapshot_rows(
    events: pl.DataFrame,
    snapshots: Sequence[datetime],
    *,
    trust: pl.DataFrame | None = None,
    graph: EventSource | None = None,
) -> pl.DataFrame:
    """Every user registered by each snapshot, with features as of it (``user_id``, ``at``, ...).

    ``events``: the frame of ``features.fraud.events.read_fraud_events`` (or of
    ``features.lake.read_flat``: the same rows); ``trust``: trust-score rows
    ``(user_id, snapshot_at, trust, graph_risk, engine_trust)`` (missing ones become null);
    ``graph``: the lake whose graph gives the neighbours' features (none: left out).
    """
    scores = None if trust is None else trust_inputs(trust)
    return pl.concat(
        [
            _snapshot_pass(events, group, scores=scores, graph=graph)
            for group in _passes(snapshots, users=_registered(events))
        ]
    )


def _snapshot_pass(
    events: pl.DataFrame,
    snapshots: Sequence[datetime],
    *,
    scores: pl.DataFrame | None,
    graph: EventSource | None,
) -> pl.DataFrame:
    """``snapshot_rows`` of one pass; every step is row by row (or snapshot by snapshot), so the
    passes' rows concatenated are the rows of all snapshots at once."""
    rows = _featured(events, snapshots)
    if graph is not None:
        rows = with_neighbour_features(rows, graph)
    if scores is None:
        return rows.with_columns(
            pl.lit(None, pl.Float64).alias(f"trust_{c}") for c in TRUST_COLUMNS
        )
    return attach_trust_scores(rows, scores, strict=False)


# Snapshot rows (users x snapshots) featured per pass over the events. Fewer per pass: the query
# side of the features (windows, lookups, intermediate columns per row) is a pass's rows, not every
# snapshot's; more: the event side (codes, streams, sorts) is built fewer times. A pass holds at
# least one snapshot, so at 100,000 users and more each snapshot is a pass of its own. The earlier
# snapshots' passes read only the events up to them (a prefix of the time-ordered frame).
ROWS_PER_PASS = 100_000


def _passes(snapshots: Sequence[datetime], *, users: int) -> list[list[datetime]]:
    """``snapshots`` in groups of about ``ROWS_PER_PASS`` rows when ``users`` are registered."""
    ordered = sorted(snapshots)
    if ordered != list(snapshots):  # rows come out in the snapshots' order: keep it
        return [list(snapshots)]
    size = max(1, ROWS_PER_PASS // max(users, 1))
    return [ordered[i : i + size] for i in range(0, len(ordered), size)]


def _registered(events: pl.DataFrame) -> int:
    return events.filter(pl.col("event_type") == "USER_REGISTERED").height


def _featured(events: pl.DataFrame, snapshots: Sequence[datetime]) -> pl.DataFrame:
    """``user_features`` of every user registered by each of ``snapshots``, from the events up
    to the last of them (every feature as of t reads events at or before t only)."""
    if snapshots and events["at"].is_sorted():
        upto = events["at"].search_sorted(max(snapshots), side="right")
        events = events.slice(0, int(upto))
    queries = pl.concat([snapshot_queries(events, t) for t in snapshots])
    return user_features(events, queries)


def training_rows(
    events_dir: Path,
    *,
    as_of: datetime,
    horizon: timedelta,
    every: timedelta = timedelta(days=1),
    lookback: timedelta = timedelta(days=60),
    trust: pl.DataFrame | None = None,
    trust_every: timedelta = timedelta(days=7),
) -> pl.DataFrame:
    """Labelled rows for snapshots every ``every`` over ``lookback`` before ``as_of``, in one
    frame: the parts of ``training_parts`` (same arguments) concatenated."""
    parts = training_parts(
        events_dir,
        as_of=as_of,
        horizon=horizon,
        every=every,
        lookback=lookback,
        trust=trust,
        trust_every=trust_every,
    )
    return pl.concat(list(parts))


def training_parts(
    events_dir: Path,
    *,
    as_of: datetime,
    horizon: timedelta,
    every: timedelta = timedelta(days=1),
    lookback: timedelta = timedelta(days=60),
    trust: pl.DataFrame | None = None,
    trust_every: timedelta = timedelta(days=7),
) -> Iterator[pl.DataFrame]:
    """Labelled rows for snapshots every ``every`` over ``lookback`` before ``as_of``, a pass of
    snapshots at a time (oldest first), so a caller can write each away before the next.

    Each row carries the trust scores of the latest trust snapshot at or before it, as scoring
    will: stored ones (``trust``) first; where none is within ``trust_every`` of a row, one is
    computed here with ``features.platform_graph.trust`` (trust graphs are the costly part).
    """
    events = read_fraud_events(events_dir, until=as_of)
    first = events.get_column("at").min()
    start = max(as_of - lookback, first) if isinstance(first, datetime) else as_of
    n = int((as_of - start) / every)
    snapshots = [as_of - every * k for k in range(n, 0, -1)]
    have = [] if trust is None else trust.get_column("snapshot_at").unique().to_list()
    missing: list[datetime] = []
    for t in snapshots:
        if not any(timedelta(0) <= t - s < trust_every for s in [*have, *missing]):
            missing.append(t)
    computed = [trust_inputs(platform_trust(events_dir, t)) for t in missing]
    parts = [] if trust is None else [trust_inputs(trust)]
    scores = pl.concat(parts + computed) if parts or computed else None
    labels = observed_labels(events, as_of=as_of)
    for group in _passes(snapshots, users=_registered(events)):
        # Not bound to a name: the generator holds no pass's rows while the caller has them.
        yield _labelled(
            _snapshot_pass(events, group, scores=scores, graph=events_dir),
            labels,
            horizon=horizon,
            as_of=as_of,
        )

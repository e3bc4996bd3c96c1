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

from collections.abc import Sequence
from datetime import datetime, timedelta
from pathlib import Path

import polars as pl

from features.fraud import (
    USER_FEATURES,
    attach_trust_scores,
    label_rows,
    observed_labels,
    snapshot_queries,
    user_features,
)
from features.fraud.events import read_fraud_events
from features.lake import EventSource
from features.platform_graph.aggregates import NEIGHBOUR_FEATURES, with_neighbour_features
from features.platform_graph.trust import platform_trust
from features.schema import TRUST_SCORES
from models.risk.scoring import RULES

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
    rows = pl.concat([_featured(events, group) for group in _passes(snapshots)])
    if graph is not None:
        rows = with_neighbour_features(rows, graph)
    if trust is None:
        return rows.with_columns(
            pl.lit(None, pl.Float64).alias(f"trust_{c}") for c in TRUST_COLUMNS
        )
    scores = trust_inputs(trust)
    return attach_trust_scores(rows, scores, strict=False)


# Snapshots featured per pass over the events. Fewer per pass: the query side of the features
# (windows, lookups, intermediate columns per row) is a pass's rows, not every snapshot's; more:
# the event side (codes, streams, sorts) is built fewer times. The earlier snapshots' passes read
# only the events up to them (a prefix of the time-ordered frame, not a copy).
SNAPSHOTS_PER_PASS = 4


def _passes(snapshots: Sequence[datetime]) -> list[list[datetime]]:
    ordered = sorted(snapshots)
    if ordered != list(snapshots):  # rows come out in the snapshots' order: keep it
        return [list(snapshots)]
    return [ordered[i : i + SNAPSHOTS_PER_PASS] for i in range(0, len(ordered), SNAPSHOTS_PER_PASS)]


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
    """Labelled rows for snapshots every ``every`` over ``lookback`` before ``as_of``.

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
    rows = snapshot_rows(events, snapshots, trust=scores, graph=events_dir)
    return labelled_rows(rows, events, horizon=horizon, as_of=as_of)


def labelled_rows(
    rows: pl.DataFrame, events: pl.DataFrame, *, horizon: timedelta, as_of: datetime
) -> pl.DataFrame:
    """``rows`` with ``label`` (0/1), ``label_complete`` and ``label_weight``, minus users already
    known as fraud (by any label). A positive row whose labels are likely wrong weighs 0: a user
    with a doubtful label is neither taught as fraud nor as unlabelled (``MIN_LABEL_PRECISION``)."""
    labels = observed_labels(events, as_of=as_of)
    known = (
        labels.filter(pl.col("label") == 1)
        .group_by("user_id")
        .agg(pl.col("label_at").min().alias("_first_fraud"))
    )
    out = label_rows(rows, labels, horizon=horizon, as_of=as_of)
    fresh = pl.col("_first_fraud").is_null() | (pl.col("_first_fraud") > pl.col("at"))
    weight = (
        pl.when(pl.col("label") == 1).then(pl.col("label_weight").fill_null(1.0)).otherwise(1.0)
    )
    # The joins run on the keys alone: the wide rows are copied once, by the filter.
    keys = (
        out.select("user_id", "at", "label")
        .join(known, on="user_id", how="left", maintain_order="left")
        .join(user_label_weights(labels), on="user_id", how="left", maintain_order="left")
        .select(
            fresh.alias("_fresh"),
            pl.when(weight < MIN_LABEL_PRECISION).then(0.0).otherwise(weight).alias("label_weight"),
        )
    )
    out = out.with_columns(keys["label_weight"]).filter(keys["_fresh"])
    return with_rule_labels(out)


# Rules that name a fraudulent act are weak labels too: a row where one fires is a positive of
# weight RULE_LABEL_WEIGHT in training (``rule_label``), never in the metrics, floors or gate,
# which read observed labels only. Their precision cannot be estimated like the other weak
# labels': analysts rarely get to the card testers and mules these rules find, so agreement
# with reviews says little (0.02 for both on a 10k-user hard simulation) and 0.5 is the prior.
# The rules that flag a shape (a dense device ring, a shared device) stay flags and inputs, not
# labels: households and shared connections have those shapes too, and as labels they cost
# average precision. 10k users, hard, seed 11, out of fold against the truth: AUC 0.962 / AP
# 0.574 without rule labels, 0.979 / 0.765 with these two, 0.970 / 0.545 with the shape rules
# as well. Rules over label columns (chargebacks) are labels already.
WEAK_RULES = ("mule", "card_testing")
RULE_LABEL_WEIGHT = 0.5


def with_rule_labels(rows: pl.DataFrame) -> pl.DataFrame:
    """``rows`` with ``rule_label`` (Int8): 1 where a ``WEAK_RULES`` rule fires on a row without
    an observed positive label, whose ``label_weight`` becomes ``RULE_LABEL_WEIGHT``. A rule
    whose inputs the rows lack (a frame of labels only) does not fire."""
    exprs = [RULES[name][0] for name in WEAK_RULES]
    usable = [e for e in exprs if set(e.meta.root_names()) <= set(rows.columns)]
    fires = pl.any_horizontal(pl.lit(False), *(e.fill_null(False) for e in usable))
    rule = fires & (pl.col("label") != 1)
    return rows.with_columns(
        rule_label=rule.cast(pl.Int8),
        label_weight=pl.when(rule).then(RULE_LABEL_WEIGHT).otherwise(pl.col("label_weight")),
    )


# Labels an analyst or the owner gave: fraud, as far as anyone can tell.
STRONG_LABELS = frozenset({"review_confirmed", "banned_for_fraud", "reported_takeover"})
# A weak label estimated to be wrong more often than right gives its rows weight 0: as a positive
# it would teach that busy honest sellers are fraud; as unlabelled, that the card testers whose
# chargebacks nobody reviewed are honest. Kept at weight 0 rather than dropped: on 10k-user
# simulations (seeds 11, 12) dropping them cost queue precision at 50 (0.86 -> 0.66, 0.78 ->
# 0.70); LightGBM still counts such rows in its bins and leaf sizes.
MIN_LABEL_PRECISION = 0.5
# A weak label's precision is estimated per how often the user got it (1, 2, ... REPEATS or more):
# one lost dispute happens to honest sellers, a fourth rarely does.
REPEATS = 3


def _repeats(labels: pl.DataFrame) -> pl.DataFrame:
    """``user_id, kind, repeats``: each user's positive labels of each kind, capped at REPEATS."""
    return (
        labels.filter(pl.col("label") == 1)
        .group_by("user_id", "kind")
        .agg(pl.len().clip(upper_bound=REPEATS).cast(pl.Int64).alias("repeats"))
    )


def label_precision(labels: pl.DataFrame) -> dict[tuple[str, int], float]:
    """How often each kind of positive label is right, by how often the user got it, estimated
    without any truth: the share of those users whom a strong label (a review, a ban, a reported
    takeover) also names, smoothed (+1 / +2). Strong labels count fully."""
    counted = _repeats(labels)
    strong = set(counted.filter(pl.col("kind").is_in(STRONG_LABELS))["user_id"].to_list())
    out = {}
    for (kind, repeats), group in counted.group_by("kind", "repeats"):
        users = set(group["user_id"].to_list())
        name = str(kind)
        agree = (len(users & strong) + 1) / (len(users) + 2)
        out[(name, int(repeats))] = 1.0 if name in STRONG_LABELS else agree
    return out


def _precision_table(labels: pl.DataFrame) -> pl.DataFrame:
    return pl.DataFrame(
        [(k, r, p) for (k, r), p in label_precision(labels).items()],
        schema={"kind": pl.String, "repeats": pl.Int64, "label_weight": pl.Float64},
        orient="row",
    )


def user_label_weights(labels: pl.DataFrame) -> pl.DataFrame:
    """``user_id, label_weight``: the best estimated precision among the user's positive labels
    (the weight of the user's positive rows in training)."""
    return (
        _repeats(labels)
        .join(_precision_table(labels), on=["kind", "repeats"])
        .group_by("user_id")
        .agg(pl.col("label_weight").max())
    )

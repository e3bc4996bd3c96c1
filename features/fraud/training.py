"""Point-in-time joins and labels: training sets from observed labels only.

- ``asof_join``: per row, the latest snapshot of its entity at or before (``strict``: before) the
  row's time: trust-graph scores, daily feature snapshots. A polars ``join_asof``; the snapshot's
  age comes along so a model can tell a fresh score from a stale one.
- ``observed_labels``: the label events a training run at ``as_of`` has seen (``occurred_at <=
  as_of``), one row per event and kind.
- ``label_rows``: per prediction row at t, whether a positive label for its user arrived in
  ``(t, t + horizon]``, and whether that whole horizon was observable by ``as_of`` (rows whose
  horizon runs past ``as_of`` are censored: a "no" there may be a label still on its way).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from pathlib import Path

import polars as pl

from features.fraud.rolling import window_aggregates
from features.lake import read_events

_C = pl.col
_FRAUD = "confirmed_fraud"
# kind -> (event type, column naming the user, condition, label): 1 = fraud, 0 = cleared
LABEL_EVENTS: dict[str, tuple[str, str, pl.Expr, int]] = {
    "review_confirmed": ("REVIEW_DECISION", "subject_id", _C("decision") == "confirmed_fraud", 1),
    "chargeback_fraud": (
        "CHARGEBACK_RECEIVED",
        "actor_id",
        _C("chargeback_reason") == "fraudulent",
        1,
    ),
    "chargeback_seller": (
        "CHARGEBACK_RECEIVED",
        "seller_id",
        _C("chargeback_reason").is_in(["not_received", "not_as_described"]),
        1,
    ),
    "dispute_lost_seller": (
        "DISPUTE_RESOLVED",
        "seller_id",
        _C("dispute_outcome") == "buyer_won",
        1,
    ),
    "banned_for_fraud": (
        "ACCOUNT_STATUS_CHANGED",
        "subject_id",
        _C("account_status").is_in(["banned", "suspended"]) & (_C("reason_code") == _FRAUD),
        1,
    ),
    # The owner reported a takeover: the account itself was used by someone else for a while.
    "reported_takeover": (
        "ACCOUNT_STATUS_CHANGED",
        "subject_id",
        _C("reason_code") == "reported_account_takeover",
        1,
    ),
    "review_cleared": ("REVIEW_DECISION", "subject_id", _C("decision") == "cleared", 0),
}


def asof_join(
    rows: pl.DataFrame,
    snapshots: pl.DataFrame,
    *,
    by: str = "user_id",
    at: str = "at",
    snapshot_at: str = "snapshot_at",
    strict: bool = False,
    prefix: str = "",
) -> pl.DataFrame:
    """``rows`` (order kept) with the columns of the latest snapshot of the same ``by`` at or
    before (``strict``: before) ``at``, prefixed, plus ``{prefix}snapshot_age_hours``."""
    value_cols = [c for c in snapshots.columns if c not in (by, snapshot_at)]
    right = snapshots.select(
        by,
        _C(snapshot_at).cast(rows.schema[at]).alias("_snap"),
        *(_C(c).alias(f"{prefix}{c}") for c in value_cols),
    ).sort("_snap")
    # Only the keys go through the sorts and the join; the (wide) rows are not copied.
    left = rows.select(by, at).with_row_index("_row").sort(at)
    joined = left.join_asof(
        right,
        left_on=at,
        right_on="_snap",
        by=by,
        strategy="backward",
        allow_exact_matches=not strict,
        check_sortedness=False,  # both sorted on the time key just above
    )
    age = (_C(at) - _C("_snap")).dt.total_microseconds() / 3.6e9
    found = (
        joined.sort("_row")
        .with_columns(age.alias(f"{prefix}snapshot_age_hours"))
        .drop("_row", "_snap", by, at)
    )
    return pl.concat([rows, found], how="horizontal")


def attach_trust_scores(
    rows: pl.DataFrame,
    scores: pl.DataFrame,
    *,
    at: str = "at",
    strict: bool = True,
) -> pl.DataFrame:
    """Trust-graph scores ``(user_id, snapshot_at, <score columns>)`` of the latest snapshot
    strictly before each row's time, as ``trust_<column>`` (+ ``trust_snapshot_age_hours``)."""
    return asof_join(rows, scores, at=at, strict=strict, prefix="trust_")


def observed_labels(
    events: pl.DataFrame,
    *,
    as_of: datetime | None = None,
    kinds: Sequence[str] | None = None,
) -> pl.DataFrame:
    """Label events seen by ``as_of`` (flat events of ``features.lake.read_flat``): ``user_id``,
    ``label_at``, ``kind``, ``label`` (Int8: 1 fraud, 0 cleared). The latest verdict wins: an
    analyst's clearing voids the user's earlier positive labels."""
    if as_of is not None:
        events = events.filter(_C("at") <= as_of)
    parts = []
    for kind, (event_type, user, when, label) in LABEL_EVENTS.items():
        if kinds is not None and kind not in kinds:
            continue
        parts.append(
            events.filter((_C("event_type") == event_type) & when).select(
                _C(user).cast(pl.String).alias("user_id"),
                _C("at").alias("label_at"),
                pl.lit(kind).alias("kind"),
                pl.lit(label, pl.Int8).alias("label"),
            )
        )
    schema: dict[str, pl.DataType | type[pl.DataType]] = {
        "user_id": pl.String,
        "label_at": events.schema["at"],
        "kind": pl.String,
        "label": pl.Int8,
    }
    if not parts:
        return pl.DataFrame(schema=schema)
    return _latest_verdict_wins(pl.concat(parts))


def review_labels_since(events_dir: Path, *, since: datetime | None) -> int:
    """Analysts' verdicts (``REVIEW_DECISION`` events that ``observed_labels`` turns into labels:
    confirmed or cleared, not escalated) that reached the lake after ``since`` (by
    ``ingested_at``: a verdict that happened earlier but arrived late is still new to a model
    trained before it arrived); every one when ``since`` is None."""
    review = {k: v for k, v in LABEL_EVENTS.items() if v[0] == "REVIEW_DECISION"}
    where = None if since is None else f"ingested_at > TIMESTAMPTZ '{since.isoformat()}'"
    try:
        found = read_events(
            events_dir,
            {"decision": "payload.decision"},
            types=["REVIEW_DECISION"],
            where=where,
        )
    except FileNotFoundError:  # an empty lake
        return 0
    return found.filter(pl.any_horizontal(cond for _, _, cond, _ in review.values())).height


def _latest_verdict_wins(labels: pl.DataFrame) -> pl.DataFrame:
    """Drop positive labels an analyst's later ``cleared`` voids: a reversed confirmation (and
    the ban that came with it), or a lost dispute a review later found honest. A positive label
    after the clearing is new evidence and stays."""
    cleared = (
        labels.filter(_C("label") == 0)
        .group_by("user_id")
        .agg(_C("label_at").max().alias("_cleared_at"))
    )
    void = (_C("label") == 1) & (_C("label_at") <= _C("_cleared_at")).fill_null(False)
    return labels.join(cleared, on="user_id", how="left").filter(~void).drop("_cleared_at")


def label_rows(
    rows: pl.DataFrame,
    labels: pl.DataFrame,
    *,
    horizon: timedelta,
    as_of: datetime,
    at: str = "at",
) -> pl.DataFrame:
    """``rows`` with ``label`` (Int8: a positive label for the user in ``(at, at + horizon]``,
    seen by ``as_of``) and ``label_complete`` (the whole horizon lies before ``as_of``)."""
    positive = labels.filter((_C("label") == 1) & (_C("label_at") <= as_of))
    users = rows["user_id"]
    # Positives in (at, at + horizon] = positives up to at + horizon minus those up to at.
    upto_end = _positives_upto(
        positive, users=users, times=rows[at].dt.offset_by(_duration(horizon))
    )
    upto_now = _positives_upto(positive, users=users, times=rows[at])
    return rows.with_columns(
        label=((upto_end - upto_now) > 0).cast(pl.Int8),
        label_complete=(_C(at) + horizon <= as_of),
    )


def _duration(span: timedelta) -> str:
    return f"{span // timedelta(microseconds=1)}us"


def _positives_upto(positive: pl.DataFrame, *, users: pl.Series, times: pl.Series) -> pl.Series:
    queries = pl.DataFrame({"user_id": users, "label_at": times})
    counts = window_aggregates(
        positive, by="user_id", at="label_at", windows={"ever": None}, queries=queries
    )
    return counts["n_ever"]

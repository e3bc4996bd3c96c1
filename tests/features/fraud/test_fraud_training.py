"""Training sets: as-of joins to snapshots (trust scores, feature snapshots) and observed labels."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import polars as pl

from features.fraud.platform import action_queries, platform_features, snapshot_queries
from features.fraud.training import (
    asof_join,
    attach_trust_scores,
    label_rows,
    observed_labels,
)
from tests.features.fraud.conftest import T0, D, U

DAY1, DAY2, DAY3 = (datetime(2026, 5, d, tzinfo=UTC) for d in (1, 2, 3))


def test_trust_scores_come_from_the_latest_snapshot_strictly_before() -> None:
    scores = pl.DataFrame(
        {
            "user_id": ["u1", "u1", "u2"],
            "snapshot_at": [DAY1, DAY3, DAY2],
            "trust": [0.2, 0.9, 0.5],
            "sybil_rank": [10.0, 1.0, 5.0],
        }
    )
    rows = pl.DataFrame(
        {
            "user_id": ["u1", "u1", "u1", "u2", "u3", "u2"],
            "at": [DAY1 + timedelta(hours=6), DAY1, DAY3 + D, DAY2, DAY3, DAY2 - D],
            "x": [1, 2, 3, 4, 5, 6],
        }
    )
    out = attach_trust_scores(rows, scores)
    assert out["x"].to_list() == [1, 2, 3, 4, 5, 6]  # row order kept
    assert out["trust_trust"].to_list() == [0.2, None, 0.9, None, None, None]
    assert out["trust_sybil_rank"].to_list() == [10.0, None, 1.0, None, None, None]
    assert out["trust_snapshot_age_hours"].to_list() == [6.0, None, 24.0, None, None, None]
    inclusive = asof_join(rows, scores, strict=False, prefix="s_")
    assert inclusive["s_trust"].to_list() == [0.2, 0.2, 0.9, 0.5, None, None]


def test_labels_are_used_only_once_observed(story: pl.DataFrame) -> None:
    labels = observed_labels(story)
    kinds = dict(labels.select("kind", "user_id").iter_rows())
    assert kinds == {"review_confirmed": U["mule"], "chargeback_fraud": U["alice"]}
    assert observed_labels(story, as_of=T0 + 4.5 * D)["kind"].to_list() == ["review_confirmed"]
    rows = action_queries(story).filter(
        pl.col("event_type").is_in(["PAYOUT_REQUESTED", "PAYMENT_SUCCESS"])
    )
    week = timedelta(days=7)
    late = label_rows(rows, labels, horizon=week, as_of=T0 + 10 * D)
    assert late["label"].to_list() == [1, 1, 1] and late["label_complete"].all()
    early = label_rows(rows, labels, horizon=week, as_of=T0 + 4.5 * D)  # no chargeback yet
    assert early["label"].to_list() == [0, 0, 1] and not early["label_complete"].any()
    short = label_rows(rows, labels, horizon=3 * D, as_of=T0 + 10 * D)  # chargeback after 3d
    assert short["label"].to_list() == [0, 0, 0]


def test_training_rows_from_daily_snapshots_match_features_computed_at_the_snapshot(
    story: pl.DataFrame,
) -> None:
    """Daily feature snapshots, then an as-of join of prediction times onto them: each row gets
    the features of the last snapshot at or before it, exactly as computed at that snapshot."""
    days = [T0 - D, T0, T0 + D]
    snapshots = pl.concat(
        [platform_features(story, snapshot_queries(story, day)) for day in days]
    ).rename({"at": "snapshot_at"})
    spine = pl.DataFrame(
        {
            "user_id": [U["alice"], U["mule"], U["bob"]],
            "at": [T0 + 12 * timedelta(hours=1), T0 + 2 * D, T0 - D],
        }
    )
    train = asof_join(spine, snapshots.drop("device_id", "ip", "country"))
    direct = platform_features(
        story, spine.with_columns(at=pl.Series([T0, T0 + D, T0 - D]).dt.cast_time_unit("us"))
    )
    for col in ("payments_n_24h", "account_age_days", "fan_in_senders_24h", "devices_n_ever"):
        assert train[col].to_list() == direct[col].to_list(), col
    assert train["snapshot_age_hours"].to_list() == [12.0, 24.0, 0.0]


def _verdicts(rows: list[tuple[str, datetime, str, dict[str, str]]]) -> pl.DataFrame:
    from features.lake import FLAT_SCHEMA

    frame: dict[str, list[object]] = {name: [None] * len(rows) for name in FLAT_SCHEMA}
    for i, (kind, at, user, fields) in enumerate(rows):
        frame["event_id"][i], frame["event_type"][i], frame["at"][i] = f"v{i}", kind, at
        frame["actor_id"][i] = frame["subject_id"][i] = user
        for name, value in fields.items():
            frame[name][i] = value
    return pl.DataFrame(frame, schema=FLAT_SCHEMA)


def test_labels_a_reversed_confirmation_is_no_label_but_later_evidence_is() -> None:
    confirm = {"decision": "confirmed_fraud"}
    ban = {"account_status": "banned", "reason_code": "confirmed_fraud"}
    events = _verdicts(
        [
            ("REVIEW_DECISION", DAY1, "r", confirm),
            ("ACCOUNT_STATUS_CHANGED", DAY1, "r", ban),
            ("REVIEW_DECISION", DAY2, "r", {"decision": "cleared"}),
            ("REVIEW_DECISION", DAY1, "s", confirm),
            ("REVIEW_DECISION", DAY1, "t", {"decision": "cleared"}),
            ("REVIEW_DECISION", DAY3, "t", confirm),  # new evidence after the clearing
        ]
    )
    labels = observed_labels(events)
    positive = {(u, k) for u, k, y in labels.select("user_id", "kind", "label").iter_rows() if y}
    assert positive == {("s", "review_confirmed"), ("t", "review_confirmed")}
    # Before the reversal was known, the confirmation counted.
    early = observed_labels(events, as_of=DAY1 + D / 2)
    assert set(early.filter(pl.col("label") == 1)["user_id"]) == {"r", "s"}

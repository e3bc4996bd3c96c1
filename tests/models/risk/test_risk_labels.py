"""Training labels: what was known by the cut-off, within the horizon, never from the future."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import polars as pl

from features.lake import FLAT_SCHEMA
from models.risk.data import FEATURES, LABEL_ECHOES
from models.risk.labels import labelled_rows

T0 = datetime(2026, 8, 1, tzinfo=UTC)
D = timedelta(days=1)


def _label_events(rows: list[tuple[str, datetime, str, dict[str, str]]]) -> pl.DataFrame:
    frame = {name: [None] * len(rows) for name in FLAT_SCHEMA}
    for i, (kind, at, user, fields) in enumerate(rows):
        frame["event_id"][i], frame["event_type"][i], frame["at"][i] = f"e{i}", kind, at
        frame["actor_id"][i] = frame["subject_id"][i] = user
        for name, value in fields.items():
            frame[name][i] = value
    return pl.DataFrame(frame, schema=FLAT_SCHEMA)


EVENTS = _label_events(
    [
        ("REVIEW_DECISION", T0 + 3 * D, "a", {"decision": "confirmed_fraud"}),
        ("ACCOUNT_STATUS_CHANGED", T0 + 5 * D, "b", {"reason_code": "reported_account_takeover"}),
        ("REVIEW_DECISION", T0 + 20 * D, "c", {"decision": "confirmed_fraud"}),  # after the cut
    ]
)


def _rows() -> pl.DataFrame:
    users = ["a", "b", "c", "d"]
    times = [T0, T0 + 4 * D]
    return pl.DataFrame(
        {"user_id": [u for _ in times for u in users], "at": [t for t in times for _ in users]},
        schema={"user_id": pl.String, "at": pl.Datetime("us", "UTC")},
    )


def test_risk_labels_positive_only_within_the_horizon_and_by_the_cut_off() -> None:
    out = labelled_rows(_rows(), EVENTS, horizon=7 * D, as_of=T0 + 10 * D)
    labels = {(u, t): y for u, t, y in out.select("user_id", "at", "label").iter_rows()}
    assert labels[("a", T0)] == 1  # confirmed 3 days later
    assert labels[("b", T0)] == 1 and labels[("b", T0 + 4 * D)] == 1  # reported takeover
    assert labels[("c", T0)] == 0 and labels[("c", T0 + 4 * D)] == 0  # known only after as_of
    assert labels[("d", T0)] == 0


def test_risk_labels_drop_rows_of_users_already_known_as_fraud() -> None:
    out = labelled_rows(_rows(), EVENTS, horizon=7 * D, as_of=T0 + 10 * D)
    assert ("a", T0 + 4 * D) not in set(out.select("user_id", "at").iter_rows())


def test_risk_labels_complete_only_when_the_horizon_lies_before_the_cut_off() -> None:
    out = labelled_rows(_rows(), EVENTS, horizon=7 * D, as_of=T0 + 10 * D)
    complete = dict(zip(out["at"], out["label_complete"], strict=True))
    assert complete[T0] is True and complete[T0 + 4 * D] is False


def test_risk_features_leave_label_echoes_out() -> None:
    assert LABEL_ECHOES.isdisjoint(FEATURES)
    assert not any("truth" in f or "typology" in f or "fraud_from" in f for f in FEATURES)


def test_risk_feature_tables_carry_no_truth_column() -> None:
    # The simulator's truth (users.parquet) names what only the simulator knows.
    from features.schema import TABLES

    truth_only = {"is_fraud", "typology", "fraud_from", "fraud_cluster", "banned_at", "activity"}
    for name, table in TABLES.items():
        columns = {f.name.removeprefix("trust_") for f in table}
        assert truth_only.isdisjoint(columns), name
    assert truth_only.isdisjoint(f.removeprefix("trust_") for f in FEATURES)


def test_risk_label_precision_discounts_labels_strong_ones_rarely_confirm() -> None:
    from models.risk.labels import label_precision, user_label_weights

    labels = pl.DataFrame(
        {
            "user_id": ["s1", "s2", "s3", "s4", "s1", "s5", "s5", "s5", "s5"],
            "label_at": [T0] * 9,
            "kind": ["dispute_lost_seller"] * 4
            + ["review_confirmed"]
            + ["dispute_lost_seller"] * 4,
            "label": [1] * 9,
        },
        schema={
            "user_id": pl.String,
            "label_at": pl.Datetime("us", "UTC"),
            "kind": pl.String,
            "label": pl.Int8,
        },
    )
    precision = label_precision(labels)
    # Once: s1..s4, one of whom (s1) a review confirmed; four times (capped at 3): s5, unconfirmed.
    assert precision == {
        ("dispute_lost_seller", 1): (1 + 1) / (4 + 2),
        ("dispute_lost_seller", 3): (0 + 1) / (1 + 2),
        ("review_confirmed", 1): 1.0,
    }
    weights = dict(user_label_weights(labels).iter_rows())
    assert weights == {"s1": 1.0, "s2": 1 / 3, "s3": 1 / 3, "s4": 1 / 3, "s5": 1 / 3}


def test_risk_labels_leave_out_positives_that_are_more_likely_wrong() -> None:
    # "d" and "e" lost one dispute each and no strong label named either: estimated precision
    # (0 + 1) / (2 + 2) < 1/2, so d's positive row weighs nothing and d is no longer unlabelled
    # after it.
    lost = {"dispute_outcome": "buyer_won", "seller_id": ""}
    events = pl.concat(
        [
            EVENTS,
            _label_events(
                [
                    ("DISPUTE_RESOLVED", T0 + 2 * D, "x", {**lost, "seller_id": "d"}),
                    ("DISPUTE_RESOLVED", T0 + 2 * D, "y", {**lost, "seller_id": "e"}),
                ]
            ),
        ]
    )
    out = labelled_rows(_rows(), events, horizon=3 * D, as_of=T0 + 10 * D)
    kept = {
        (u, t): (y, w)
        for u, t, y, w in out.select("user_id", "at", "label", "label_weight").iter_rows()
    }
    assert kept[("d", T0)] == (1, 0.0) and ("d", T0 + 4 * D) not in kept
    assert kept[("a", T0)] == (1, 1.0)  # a strong label still counts


def test_risk_rules_teach_weak_positives_but_never_count_as_labels() -> None:
    from models.risk.labels import RULE_LABEL_WEIGHT, with_rule_labels
    from models.risk.train import sample_rows

    rows = pl.DataFrame(
        {
            "user_id": ["tester", "labelled", "honest", "charged"],
            "label": [0, 1, 0, 0],
            "label_weight": [1.0, 0.8, 1.0, 1.0],
            "failed_payments_n_30d": [5, 5, 1, 0],
            "failed_payment_ratio_30d": [0.7, 0.9, None, None],
            "chargebacks_n_30d": [0, 0, 0, 2],  # a label column: its rule is not a weak label
        }
    )
    out = with_rule_labels(rows)
    assert out["rule_label"].to_list() == [1, 0, 0, 0]
    assert out["label_weight"].to_list() == [RULE_LABEL_WEIGHT, 0.8, 1.0, 1.0]
    assert out["label"].to_list() == [0, 1, 0, 0]  # metrics and floors still see 1 positive
    sampled = sample_rows(out.with_columns(at=pl.lit(T0)), limit=1, seed=0)
    assert {"tester", "labelled"} <= set(sampled["user_id"].to_list())  # taught rows all kept

"""Labels of the training rows: what happened next, how far each kind of label is believed, and
the rules' weak labels.

A row's ``label`` is a positive observed label in (t, t + horizon] (``features.fraud.label_rows``);
users already known as fraud at t leave the rows; a weak label (a lost dispute, a chargeback to a
seller) weighs its estimated precision, and a rule naming a fraudulent act labels a row weakly.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import polars as pl

from features.fraud import label_rows, observed_labels
from models.risk.scoring import RULES


def labelled_rows(
    rows: pl.DataFrame, events: pl.DataFrame, *, horizon: timedelta, as_of: datetime
) -> pl.DataFrame:
    """``rows`` with ``label`` (0/1), ``label_complete`` and ``label_weight``, minus users already
    known as fraud (by any label). A positive row whose labels are likely wrong weighs 0: a user
    with a doubtful label is neither taught as fraud nor as unlabelled (``MIN_LABEL_PRECISION``)."""
    return labelled(rows, observed_labels(events, as_of=as_of), horizon=horizon, as_of=as_of)


def labelled(
    rows: pl.DataFrame, labels: pl.DataFrame, *, horizon: timedelta, as_of: datetime
) -> pl.DataFrame:
    """``labelled_rows`` with the labels (``features.fraud.observed_labels``) already read: the
    training rows' passes share one read."""
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

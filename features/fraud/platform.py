"""Platform fraud features per user as of any time: one row of features per query (user, time).

A query is a user and a time ``at``, optionally with the context of an action (``device_id``,
``ip``, ``country``) and its ``amount``. ``action_queries`` makes one per order, payment, transfer,
payout and listing (training rows, scored as they happen); ``snapshot_queries`` one per user at a
cut (batch scoring). Every feature at ``at`` reads only events with ``occurred_at <= at`` (device,
IP and country novelty: strictly before ``at``), labels included: a chargeback, dispute or review
counts once its event has happened, whatever transaction it is about.

Counts and sums come from two streams of per-user "facts" (one row per event and role: a transfer
is a transfer out for its sender and a transfer in for its receiver), each aggregated over all its
windows in one pass of ``window_aggregates``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta

import numpy as np
import polars as pl

from features.fraud.encode import encode_ids, money
from features.fraud.lookups import last_before
from features.fraud.rolling import WINDOWS, window_aggregates
from features.fraud.schema import PLATFORM_FEATURES
from features.fraud.signals import identity_features, mule_features
from features.fraud.takeover import takeover_features

HISTORY = {"30d": timedelta(days=30), "ever": None}
ACTIONS = (
    "ORDER_PLACED",
    "PAYMENT_SUCCESS",
    "PAYMENT_FAILED",
    "TRANSFER_SENT",
    "PAYOUT_REQUESTED",
    "LISTING_CREATED",
)
VERIFICATIONS = {"email": "email", "phone": "phone", "id": "id_document", "bank": "bank_account"}
UNDERPRICED = 0.5  # a listing below half its category's median price
_C = pl.col
_DECISION = _C("decision")
_CONTEXT = ("device_id", "ip", "country")
# the event columns the features read (after prices are turned into category ratios)
_USED = (
    "event_type",
    "at",
    "actor_id",
    "subject_id",
    "seller_id",
    "device_id",
    "added_device_id",
    "ip",
    "country",
    "amount",
    "price_ratio",
    "order_status",
    "verification",
    "account_status",
    "decision",
    "dispute_outcome",
)

# name -> (event type, column naming the user, extra condition, has an amount)
VELOCITY_FACTS: dict[str, tuple[str, str, pl.Expr | None, bool]] = {
    "orders": ("ORDER_PLACED", "actor_id", None, True),
    "payments": ("PAYMENT_SUCCESS", "actor_id", None, True),
    "failed_payments": ("PAYMENT_FAILED", "actor_id", None, True),
    "transfers_out": ("TRANSFER_SENT", "actor_id", None, True),
    "transfers_in": ("TRANSFER_SENT", "subject_id", None, True),
    "payouts": ("PAYOUT_REQUESTED", "actor_id", None, True),
    "escrow_in": ("ESCROW_RELEASED", "seller_id", None, True),
    "logins": ("USER_LOGGED_IN", "subject_id", None, False),
    "failed_logins": ("LOGIN_FAILED", "subject_id", None, False),
    "failed_subscription_charges": ("SUBSCRIPTION_PAYMENT_FAILED", "actor_id", None, True),
}
HISTORY_FACTS: dict[str, tuple[str, str, pl.Expr | None, bool]] = {
    "chargebacks": ("CHARGEBACK_RECEIVED", "actor_id", None, False),
    "chargebacks_as_seller": ("CHARGEBACK_RECEIVED", "seller_id", None, False),
    "disputes_opened": ("DISPUTE_OPENED", "actor_id", None, False),
    "disputes_received": ("DISPUTE_OPENED", "seller_id", None, False),
    "disputes_lost": ("DISPUTE_RESOLVED", "seller_id", _C("dispute_outcome") == "buyer_won", False),
    "reports_received": ("USER_REPORTED", "subject_id", None, False),
    "blocks_received": ("USER_BLOCKED", "subject_id", None, False),
    "fraud_confirmed": ("REVIEW_DECISION", "subject_id", _DECISION == "confirmed_fraud", False),
    "fraud_cleared": ("REVIEW_DECISION", "subject_id", _DECISION == "cleared", False),
    "sales": ("ORDER_PLACED", "seller_id", None, False),
    "sales_paid": ("ORDER_STATUS_CHANGED", "seller_id", _C("order_status") == "paid", False),
    "sales_shipped": ("ORDER_STATUS_CHANGED", "seller_id", _C("order_status") == "shipped", False),
    "listings": ("LISTING_CREATED", "actor_id", None, False),
    "listings_underpriced": ("LISTING_CREATED", "actor_id", _C("price_ratio") < UNDERPRICED, False),
} | {
    f"verified_{short}": ("VERIFICATION_COMPLETED", "subject_id", _C("verification") == v, False)
    for short, v in VERIFICATIONS.items()
}


def _facts(
    events: pl.DataFrame, facts: Mapping[str, tuple[str, str, pl.Expr | None, bool]]
) -> pl.DataFrame:
    """One row per (event, fact): user_id, at, ``{fact}_n`` = 1 and ``{fact}_amount``."""
    parts = []
    for name, (event_type, user, when, has_amount) in facts.items():
        rows = events.filter(_C("event_type") == event_type)
        if when is not None:
            rows = rows.filter(when)
        cols = [_C(user).alias("user_id"), "at", pl.lit(1, pl.Int64).alias(f"{name}_n")]
        if has_amount:
            cols.append(_C("amount").fill_null(0.0).alias(f"{name}_amount"))
        if name == "listings":
            cols.append(_C("price_ratio").alias("listing_price_ratio_sum"))
        parts.append(rows.select(cols).filter(_C("user_id").is_not_null()))
    frame = pl.concat(parts, how="diagonal")
    return frame.with_columns(pl.exclude("user_id", "at").fill_null(0))


def listing_price_ratios(
    events: pl.DataFrame, *, window: timedelta = timedelta(days=30)
) -> pl.Series:
    """Per event: for listings, price / median price of the category's listings in the trailing
    window (same currency; itself included); null for other events."""
    listings = (
        events.with_row_index("_i")
        .filter(_C("event_type") == "LISTING_CREATED")
        .sort(["at", "_i"])
        .with_columns(
            _C("price")
            .rolling_median_by("at", window_size=f"{window // timedelta(microseconds=1)}us")
            .over(["category", "currency"])
            .alias("_median")
        )
    )
    ratio = listings.select("_i", (_C("price") / _C("_median")).alias("price_ratio"))
    index = pl.DataFrame({"_i": pl.int_range(events.height, eager=True).cast(pl.UInt32)})
    return index.join(ratio, on="_i", how="left", maintain_order="left")["price_ratio"]


def _chunked_like(values: pl.Series, like: pl.Series) -> pl.Series:
    """``values`` in the chunks of ``like`` (zero-copy slices). The lake comes in many chunks a
    column (``features.lake.read_sorted`` does not copy it into one); a one-chunk column beside
    them makes polars rechunk every column selected with it: a copy of the lake beside the lake
    (30,000 users: 200 MB)."""
    if like.n_chunks() == 1:
        return values
    starts = np.cumsum([0, *like.chunk_lengths()[:-1]])
    parts = [values.slice(int(s), n) for s, n in zip(starts, like.chunk_lengths(), strict=True)]
    return pl.concat(parts, rechunk=False)


def _counts(
    events: pl.DataFrame,
    queries: pl.DataFrame,
    *,
    facts: Mapping[str, tuple[str, str, pl.Expr | None, bool]],
    windows: Mapping[str, timedelta | None],
) -> pl.DataFrame:
    """Each fact's windows at the queries, one fact at a time: one stream of every fact (a column
    per fact and amount, zeros in the other facts' rows) cost ~500 bytes a row in running sums
    and copies. The sums are the same: a count is exact either way, and a float running sum
    restarts at each user and adds the same amounts in the same order (0.0 adds nothing)."""
    parts = []
    for name, fact in facts.items():
        stream = _facts(events, {name: fact})
        sums = [c for c in stream.columns if c not in ("user_id", "at")]
        out = window_aggregates(
            stream, by="user_id", at="at", windows=windows, sums=sums, queries=queries
        )
        parts.append(out.select(pl.exclude("^n_.*$")))
    return pl.concat(parts, how="horizontal")


def _utc(times: pl.Series) -> pl.Series:
    """Query times as the lake's: UTC microseconds (naive times are read as UTC)."""
    zone = getattr(times.dtype, "time_zone", None)
    times = times.cast(pl.Datetime("us", zone))
    return times.dt.replace_time_zone("UTC") if zone is None else times.dt.convert_time_zone("UTC")


def _ratio(num: pl.Expr, den: pl.Expr) -> pl.Expr:
    return pl.when(den > 0).then(num / den)


def platform_features(
    events: pl.DataFrame,
    queries: pl.DataFrame,
    *,
    fx: Mapping[str, float] | None = None,
) -> pl.DataFrame:
    """``queries`` with every platform feature (``schema.PLATFORM_FEATURES``) appended, row for row.

    ``events``: the frame of ``features.lake.read_flat``. ``queries``: ``user_id``, ``at`` and
    optionally ``device_id``, ``ip``, ``country``, ``amount`` (missing ones are taken as null).
    ``fx`` converts amounts to one reference currency (currency -> rate); without it amounts stay
    in their own currency, which a user rarely changes.
    """
    ev = money(events, fx=fx)
    ev = ev.with_columns(price_ratio=_chunked_like(listing_price_ratios(ev), ev["at"]))
    q = queries.with_columns(
        pl.lit(None, pl.String).alias(c) for c in _CONTEXT if c not in queries.columns
    )
    if "amount" not in q.columns:
        q = q.with_columns(amount=pl.lit(None, pl.Float64))
    coded_q = q.select("user_id", *_CONTEXT).with_columns(at=_utc(q["at"]))
    ev, coded = encode_ids(ev.select(_USED), coded_q)
    velocity = _counts(ev, coded, facts=VELOCITY_FACTS, windows=WINDOWS)
    history = _counts(ev, coded, facts=HISTORY_FACTS, windows=HISTORY)
    identity, mule = identity_features(ev, coded), mule_features(ev, coded)
    frame = pl.concat([q, velocity, history, identity, mule], how="horizontal")
    money_30d = ["payments", "transfers_out", "payouts"]
    return frame.with_columns(
        *(
            (_C(f"verified_{short}_n_ever") > 0).cast(pl.Int8).alias(f"verified_{short}")
            for short in VERIFICATIONS
        ),
        *(
            _ratio(
                _C(f"failed_payments_n_{w}"), _C(f"failed_payments_n_{w}") + _C(f"payments_n_{w}")
            ).alias(f"failed_payment_ratio_{w}")
            for w in ("24h", "30d")
        ),
        _ratio(_C("sales_shipped_n_ever"), _C("sales_paid_n_ever")).alias("fulfilment_rate"),
        _ratio(_C("disputes_received_n_ever"), _C("sales_n_ever")).alias("seller_dispute_rate"),
        _ratio(_C("listing_price_ratio_sum_ever"), _C("listings_n_ever")).alias(
            "listing_price_ratio_mean"
        ),
        _ratio(
            _C("payouts_amount_7d") + _C("transfers_out_amount_7d"),
            _C("transfers_in_amount_7d") + _C("escrow_in_amount_7d"),
        ).alias("pass_through_ratio_7d"),
        _ratio(
            _C("amount").cast(pl.Float64) * pl.sum_horizontal(f"{m}_n_30d" for m in money_30d),
            pl.sum_horizontal(f"{m}_amount_30d" for m in money_30d),
        ).alias("amount_ratio_30d"),
    ).select(*q.columns, *(f.name for f in PLATFORM_FEATURES))  # the contract's order


def user_features(
    events: pl.DataFrame,
    queries: pl.DataFrame,
    *,
    fx: Mapping[str, float] | None = None,
) -> pl.DataFrame:
    """Snapshot rows (``schema.USER_FEATURES``): :func:`platform_features` and the takeover
    sequences of ``features.fraud.takeover``, row for row."""
    rows = platform_features(events, queries, fx=fx)
    return pl.concat([rows, takeover_features(events, queries)], how="horizontal")


def action_queries(
    events: pl.DataFrame,
    *,
    types: Sequence[str] = ACTIONS,
    fx: Mapping[str, float] | None = None,
) -> pl.DataFrame:
    """One query per action event (its actor, time, context and amount or listing price)."""
    ev = money(events.filter(_C("event_type").is_in(list(types))), fx=fx)
    return ev.select(
        "event_id",
        "event_type",
        _C("actor_id").alias("user_id"),
        "at",
        "device_id",
        "ip",
        "country",
        pl.coalesce("amount", "price").alias("amount"),
    )


def snapshot_queries(
    events: pl.DataFrame, at: datetime, *, users: Sequence[str] | None = None
) -> pl.DataFrame:
    """One query per user (default: every user registered by ``at``) at ``at``, with the user's
    last context (device, IP, country) seen by then."""
    if users is None:
        registered = events.filter((_C("event_type") == "USER_REGISTERED") & (_C("at") <= at))
        users = registered["subject_id"].cast(pl.String).unique().sort().to_list()
    q = pl.DataFrame({"user_id": list(users)}, schema={"user_id": pl.String}).with_columns(
        at=pl.lit(at).cast(events.schema["at"])
    )
    # Select, then filter: filtering first would copy every column of the lake.
    seen = events.select(_C("actor_id").alias("user_id"), "at", *_CONTEXT).filter(
        _C("device_id").is_not_null()
    )
    context = last_before(seen, q, by="user_id", at="at", columns=["device_id", "ip", "country"])
    # Queries carry text, whatever the events' dtype (read_fraud_events: Categorical).
    return pl.concat([q, context.cast(pl.String)], how="horizontal")

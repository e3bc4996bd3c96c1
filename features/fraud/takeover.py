"""Account-takeover sequences as of a time: a login from somewhere new, changes, money out.

A takeover reads as a short story on the owner's timeline: failed logins, a login from a device or
country the account never used, a credential or contact change, and money leaving soon after.
Every *risky login* (the first login from a device or a country new to an account that had
logged in before) within ``LOOKBACK`` of the query time opens a story; its steps are counted in
fixed windows around the login (failed logins in the day before, changes within ``CHANGES``,
money out within ``MONEY``), and only from what happened before the query time. The features
describe the story with the most steps (the latest on ties), so a takeover weeks ago stays visible
after the owner's ordinary new phone: the latest risky login alone would hide it. Rows without a
risky login get nulls (no story started).
"""

from __future__ import annotations

from datetime import timedelta

import polars as pl

from features.columns import Feature
from features.fraud.lookups import first_seen

LOOKBACK = timedelta(days=60)
BEFORE = timedelta(hours=24)  # failed logins that count as the break-in
CHANGES = timedelta(hours=6)  # credential changes that count as locking the owner out
MONEY = timedelta(hours=24)  # money out that counts as the cash-out
MONEY_OUT = ("TRANSFER_SENT", "PAYOUT_REQUESTED")
_F64 = pl.Float64
TAKEOVER_FEATURES: tuple[Feature, ...] = (
    Feature(
        "risky_login_hours_ago",
        _F64,
        "hours since the latest login from a device or country new to the account (60d)",
        nullable=True,
    ),
    Feature(
        "risky_logins_n",
        _F64,
        "logins from a device or country new to the account (60d)",
        nullable=True,
    ),
    Feature(
        "takeover_story_steps",
        _F64,
        "most takeover steps after one risky login: failed logins before, changes, money out",
        nullable=True,
    ),
    Feature(
        "takeover_story_hours_ago",
        _F64,
        "hours since the risky login of that story",
        nullable=True,
    ),
    Feature(
        "failed_logins_before_risky_login",
        _F64,
        "failed logins in the 24h before the story's risky login",
        nullable=True,
    ),
    Feature(
        "credential_changes_after_risky_login",
        _F64,
        "credential or contact changes within 6h of the story's risky login",
        nullable=True,
    ),
    Feature(
        "money_out_after_risky_login",
        _F64,
        "transfers sent and payouts requested within 24h of the story's risky login",
        nullable=True,
    ),
    Feature(
        "risky_login_to_money_out_hours",
        _F64,
        "hours from the story's risky login to the first money out within 24h",
        nullable=True,
    ),
    Feature(
        "money_out_from_new_device_n",
        _F64,
        "transfers and payouts (60d) from a device the account first used in the 14 days before",
    ),
)
NEW_DEVICE = timedelta(days=14)  # a device this recent, when the account had others before
_C = pl.col
_HOURS = 3_600_000_000.0  # microseconds per hour


def risky_logins(events: pl.DataFrame) -> pl.DataFrame:
    """``user_id, login_at`` of every login from a device or country the user had not logged in
    from before, except the user's first login ever."""
    logins = (
        events.lazy()  # only the columns selected are filtered (logins are ~1 event in 6)
        .filter(_C("event_type") == "USER_LOGGED_IN")
        .select(
            _C("subject_id").alias("user_id"), _C("at").alias("login_at"), "device_id", "country"
        )
        .collect()
        .sort("user_id", "login_at")
    )
    nth = pl.int_range(pl.len()).over("user_id")
    first_device = pl.int_range(pl.len()).over("user_id", "device_id") == 0
    first_country = pl.int_range(pl.len()).over("user_id", "country") == 0
    risky = (nth > 0) & ((first_device & _C("device_id").is_not_null()) | first_country)
    return logins.filter(risky).select("user_id", "login_at")


def story_events(events: pl.DataFrame, logins: pl.DataFrame) -> pl.DataFrame:
    """``story, step, ev_at``: each risky login's (``story`` = its row in ``logins``) failed
    logins before it and changes and money out after it, each inside its window."""
    steps = (
        ("failed", ("LOGIN_FAILED",), "subject_id", -BEFORE, timedelta(0)),
        ("cred", ("CREDENTIAL_CHANGED",), "subject_id", timedelta(0), CHANGES),
        ("money", MONEY_OUT, "actor_id", timedelta(0), MONEY),
    )
    parts = []
    for step, types, user, lo, hi in steps:
        hits = events.filter(_C("event_type").is_in(types)).select(
            _C(user).alias("user_id"), _C("at").alias("ev_at")
        )
        parts.append(
            logins.join(hits, on="user_id")
            .filter((_C("ev_at") >= _C("login_at") + lo) & (_C("ev_at") < _C("login_at") + hi))
            .select("story", pl.lit(step).alias("step"), "ev_at")
        )
    return pl.concat(parts)


def takeover_features(events: pl.DataFrame, queries: pl.DataFrame) -> pl.DataFrame:
    """One row per query (``user_id``, ``at``), in order, with ``TAKEOVER_FEATURES``.

    ``events``: the frame of ``features.lake.read_flat`` holding only events before each query's
    ``at`` that matter (later ones are filtered here, so a shared frame works for many snapshots).
    """
    # The queries' user ids in the events' dtype (String, or read_fraud_events' Categorical).
    user = pl.col("user_id").cast(events.schema["subject_id"])
    q = queries.select(user, "at").with_row_index("row")
    logins = risky_logins(events).with_row_index("story")
    found = story_events(events, logins)
    pairs = q.join(logins, on="user_id").filter(
        (_C("login_at") < _C("at")) & (_C("login_at") >= _C("at") - LOOKBACK)
    )
    counts = (
        pairs.join(found, on="story")
        .filter(_C("ev_at") < _C("at"))
        .group_by("row", "story")
        .agg(
            *((_C("step") == s).sum().alias(s) for s in ("failed", "cred", "money")),
            _C("ev_at").filter(_C("step") == "money").min().alias("money_first"),
        )
    )
    told = pairs.join(counts, on=["row", "story"], how="left").with_columns(
        *(_C(s).fill_null(0).cast(_F64) for s in ("failed", "cred", "money"))
    )
    steps = sum((_C(s) > 0).cast(_F64) for s in ("failed", "cred", "money"))
    told = told.with_columns(steps=steps)
    best = (
        told.sort("row", "steps", "login_at", descending=[False, True, True])
        .group_by("row", maintain_order=True)
        .first()
    )
    latest = told.group_by("row").agg(
        _C("login_at").max().alias("latest_at"), pl.len().cast(_F64).alias("risky_logins_n")
    )
    rows = best.join(latest, on="row").select(
        "row",
        ((_C("at") - _C("latest_at")).dt.total_microseconds() / _HOURS).alias(
            "risky_login_hours_ago"
        ),
        "risky_logins_n",
        _C("steps").alias("takeover_story_steps"),
        ((_C("at") - _C("login_at")).dt.total_microseconds() / _HOURS).alias(
            "takeover_story_hours_ago"
        ),
        _C("failed").alias("failed_logins_before_risky_login"),
        _C("cred").alias("credential_changes_after_risky_login"),
        _C("money").alias("money_out_after_risky_login"),
        ((_C("money_first") - _C("login_at")).dt.total_microseconds() / _HOURS).alias(
            "risky_login_to_money_out_hours"
        ),
    )
    out = q.join(rows, on="row", how="left").join(
        _money_from_new_devices(events, q), on="row", how="left"
    )
    out = out.with_columns(_C("money_out_from_new_device_n").fill_null(0.0)).sort("row")
    return out.select(*(f.name for f in TAKEOVER_FEATURES))


def _money_from_new_devices(events: pl.DataFrame, q: pl.DataFrame) -> pl.DataFrame:
    """``row, money_out_from_new_device_n``: a quiet takeover waits days after the break-in and
    then bleeds the wallet in chunks, each from the attacker's device (no longer "new" at login,
    but still days old for an account that used others for months)."""
    money = (
        events.lazy()
        .filter(_C("event_type").is_in(MONEY_OUT) & _C("device_id").is_not_null())
        .select(_C("actor_id").alias("user_id"), "device_id", "at")
        .collect()
    )
    # Every event with a device, as the user's (the device's first use, the account's first use
    # of any device): first sightings in groups of users, not a group-by over the whole lake.
    used = events.select(
        pl.when(_C("device_id").is_not_null()).then("actor_id").alias("user_id"),
        "device_id",
        "at",
    )
    device_first = first_seen(used, money, by="user_id", of="device_id", at="at")
    user_first = first_seen(used, money, by="user_id", at="at")
    money = money.filter(
        (device_first > user_first) & (money["at"] - device_first < NEW_DEVICE)
    ).select("user_id", _C("at").alias("ev_at"))
    return (
        q.join(money, on="user_id")
        .filter((_C("ev_at") < _C("at")) & (_C("ev_at") >= _C("at") - LOOKBACK))
        .group_by("row")
        .agg(pl.len().cast(_F64).alias("money_out_from_new_device_n"))
    )

"""Account-takeover sequences as of a time: a login from somewhere new, changes, money out.

A takeover reads as a short story on the owner's timeline: failed logins, a login from a device or
country the account never used, a credential or contact change, and money leaving soon after.
Each feature below measures one step of that story relative to the latest *risky login* (the
first login from a device or a country new to an account that had logged in before) within
``LOOKBACK`` of the query time. Rows without such a login get nulls (the story never started).
"""

from __future__ import annotations

from datetime import timedelta

import polars as pl

from features.columns import Feature

LOOKBACK = timedelta(days=14)
MONEY_OUT = ("TRANSFER_SENT", "PAYOUT_REQUESTED")
_F64 = pl.Float64
TAKEOVER_FEATURES: tuple[Feature, ...] = (
    Feature(
        "risky_login_hours_ago",
        _F64,
        "hours since the latest login from a device or country new to the account (14d)",
        nullable=True,
    ),
    Feature(
        "failed_logins_before_risky_login",
        _F64,
        "failed logins in the 24h before that risky login",
        nullable=True,
    ),
    Feature(
        "credential_changes_since_risky_login",
        _F64,
        "credential or contact changes between the risky login and t",
        nullable=True,
    ),
    Feature(
        "money_out_since_risky_login",
        _F64,
        "transfers sent and payouts requested between the risky login and t",
        nullable=True,
    ),
    Feature(
        "risky_login_to_money_out_hours",
        _F64,
        "hours from the risky login to the first money out after it",
        nullable=True,
    ),
)
_C = pl.col


def risky_logins(events: pl.DataFrame) -> pl.DataFrame:
    """``user_id, login_at`` of every login from a device or country the user had not logged in
    from before, except the user's first login ever."""
    logins = (
        events.filter(_C("event_type") == "USER_LOGGED_IN")
        .select(
            _C("subject_id").alias("user_id"), _C("at").alias("login_at"), "device_id", "country"
        )
        .sort("user_id", "login_at")
    )
    nth = pl.int_range(pl.len()).over("user_id")
    first_device = pl.int_range(pl.len()).over("user_id", "device_id") == 0
    first_country = pl.int_range(pl.len()).over("user_id", "country") == 0
    risky = (nth > 0) & ((first_device & _C("device_id").is_not_null()) | first_country)
    return logins.filter(risky).select("user_id", "login_at")


def _between(starts: pl.DataFrame, events: pl.DataFrame, *, user: str, name: str) -> pl.DataFrame:
    """Per query row (``row``): count and first time of ``events`` by the user in [start, at)."""
    hits = (
        starts.join(events.rename({user: "user_id"}), on="user_id")
        .filter((_C("ev_at") >= _C("login_at")) & (_C("ev_at") < _C("at")))
        .group_by("row")
        .agg(pl.len().alias(name), _C("ev_at").min().alias(f"{name}_first"))
    )
    return hits


def takeover_features(events: pl.DataFrame, queries: pl.DataFrame) -> pl.DataFrame:
    """One row per query (``user_id``, ``at``), in order, with ``TAKEOVER_FEATURES``.

    ``events``: the frame of ``features.lake.read_flat`` holding only events before each query's
    ``at`` that matter (later ones are filtered here, so a shared frame works for many snapshots).
    """
    q = queries.select("user_id", "at").with_row_index("row")
    logins = risky_logins(events)
    q_sorted = q.sort("at")
    start = q_sorted.join_asof(
        logins.sort("login_at"),
        left_on="at",
        right_on="login_at",
        by="user_id",
        strategy="backward",
        tolerance=LOOKBACK,
        allow_exact_matches=False,
        check_sortedness=False,  # sorted by ``at`` above; polars cannot check it per group
    ).filter(_C("login_at").is_not_null())

    def typed(types: tuple[str, ...], user: str) -> pl.DataFrame:
        return events.filter(_C("event_type").is_in(types)).select(
            _C(user), _C("at").alias("ev_at")
        )

    creds = _between(
        start, typed(("CREDENTIAL_CHANGED",), "subject_id"), user="subject_id", name="cred"
    )
    money = _between(start, typed(MONEY_OUT, "actor_id"), user="actor_id", name="money")
    failed = (
        start.join(
            typed(("LOGIN_FAILED",), "subject_id").rename({"subject_id": "user_id"}), on="user_id"
        )
        .filter(
            (_C("ev_at") < _C("login_at")) & (_C("ev_at") >= _C("login_at") - timedelta(hours=24))
        )
        .group_by("row")
        .agg(pl.len().alias("failed"))
    )
    hours = 3_600_000_000.0  # microseconds per hour
    found = (
        start.join(creds, on="row", how="left")
        .join(money, on="row", how="left")
        .join(failed, on="row", how="left")
        .select(
            "row",
            ((_C("at") - _C("login_at")).dt.total_microseconds() / hours).alias(
                "risky_login_hours_ago"
            ),
            _C("failed").fill_null(0).cast(_F64).alias("failed_logins_before_risky_login"),
            _C("cred").fill_null(0).cast(_F64).alias("credential_changes_since_risky_login"),
            _C("money").fill_null(0).cast(_F64).alias("money_out_since_risky_login"),
            ((_C("money_first") - _C("login_at")).dt.total_microseconds() / hours).alias(
                "risky_login_to_money_out_hours"
            ),
        )
    )
    out = q.join(found, on="row", how="left").sort("row")
    return out.select(*(f.name for f in TAKEOVER_FEATURES))

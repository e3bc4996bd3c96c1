"""Per-query identity, device and money-mule signals (see ``platform`` for queries and timing).

Each function takes the flat events (amounts converted, ids Categorical by ``encode.encode_ids``:
the system actor is a null ``actor_id``) and the queries encoded alike, and returns one row per
query, in order, with the columns ``schema.PLATFORM_FEATURES`` lists for it.
"""

from __future__ import annotations

from datetime import timedelta

import polars as pl

from features.fraud.lookups import Sightings, distinct_in_windows, first_seen, last_before
from features.fraud.rolling import us

RESTRICTED = ("restricted", "suspended", "banned", "closed")
_DAY_US = us(timedelta(days=1))
_C = pl.col


def _seen(events: pl.DataFrame, what: str) -> pl.DataFrame:
    """Where each user has been seen: (user_id, at, ``what``) of every event the user acted in
    with that context (for ``DEVICE_ADDED``: the device registered, its actor being the user it
    is added to), in the events' order. One context at a time: three columns of the lake, not
    five, are alive while its sightings are counted."""
    value = pl.coalesce("added_device_id", "device_id") if what == "device_id" else _C(what)
    # Select, then filter: filtering first would copy every column of the lake once more.
    seen = events.select(_C("actor_id").alias("user_id"), "at", value.alias(what))
    return seen.filter(_C("user_id").is_not_null() & _C(what).is_not_null())


def _age_days(queries: pl.DataFrame, earlier: pl.Series) -> pl.Series:
    gap = queries["at"].dt.epoch("us") - earlier.dt.epoch("us")
    return (gap / _DAY_US).cast(pl.Float64)


def identity_features(events: pl.DataFrame, queries: pl.DataFrame) -> pl.DataFrame:
    """Account age and status, devices/IPs/countries per user, users per device/IP, novelty."""
    registered = events.filter(_C("event_type") == "USER_REGISTERED").rename(
        {"subject_id": "user_id"}
    )
    reg = last_before(registered, queries, by="user_id", at="at", columns=["at"])["at"]
    statuses = events.filter(_C("event_type") == "ACCOUNT_STATUS_CHANGED").rename(
        {"subject_id": "user_id"}
    )
    status = last_before(statuses, queries, by="user_id", at="at", columns=["account_status"])
    day, month = timedelta(days=1), timedelta(days=30)
    parts = [
        pl.DataFrame(
            {
                "account_age_days": _age_days(queries, reg),
                "account_restricted": status["account_status"]
                .is_in(list(RESTRICTED))
                .fill_null(False)
                .cast(pl.Int8),
            }
        ),
    ]
    per_user = {
        "device_id": ("devices_n_", (day, month, None)),
        "ip": ("ips_n_", (day, None)),
        "country": ("countries_n_", (month, None)),
    }
    names = {day: "24h", month: "30d", None: "ever"}
    novelty = {}
    for what, (prefix, spans) in per_user.items():
        seen = _seen(events, what)
        sightings = Sightings(seen, a="user_id", b=what, at="at")
        windows = {names[s]: s for s in spans}
        parts.append(
            sightings.distinct(per="user_id", windows=windows, queries=queries, prefix=prefix)
        )
        if what != "country":
            # The same sightings, the other way round: users per device (IP) as of the query.
            per = sightings.distinct(
                per=what,
                windows={"ever": None, "30d": month},
                queries=queries,
                prefix=f"users_per_{what.removesuffix('_id')}_",
            )
            # A query without that context has no such device or IP to count users on.
            known = pl.lit(queries[what].is_not_null())
            parts.append(per.with_columns(pl.when(known).then(pl.all())))
        del sightings
        # The pair's first sighting, if it is <= at, is the same whatever happens later.
        first_at = first_seen(seen, queries, by="user_id", of=what, at="at")
        del seen
        name = what.removesuffix("_id")
        known = pl.lit(first_at) < _C("at")
        novelty[f"new_{name}"] = (
            pl.when(_C(what).is_not_null()).then(known.fill_null(False).not_()).cast(pl.Int8)
        )
        if what != "ip":
            hours = (_C("at") - pl.lit(first_at)).dt.total_microseconds() / 3.6e9
            novelty[f"{name}_age_hours"] = pl.when(known).then(hours)
    parts.append(queries.select(**novelty))
    return pl.concat(parts, how="horizontal")


def mule_features(events: pl.DataFrame, queries: pl.DataFrame) -> pl.DataFrame:
    """Fan-in (distinct senders of incoming transfers) and money-in to money-out timing."""
    transfers = events.filter(_C("event_type") == "TRANSFER_SENT")
    fan_in = distinct_in_windows(
        transfers.rename({"subject_id": "user_id"}),
        by="user_id",
        of="actor_id",
        at="at",
        windows={"24h": timedelta(days=1), "7d": timedelta(days=7), "30d": timedelta(days=30)},
        queries=queries,
        prefix="fan_in_senders_",
    )
    money_in = pl.concat(
        [
            transfers.select(_C("subject_id").alias("user_id"), "at"),
            events.filter(_C("event_type") == "ESCROW_RELEASED").select(
                _C("seller_id").alias("user_id"), "at"
            ),
        ]
    ).with_columns(_in=_C("at"))
    last_in = last_before(money_in, queries, by="user_id", at="at", columns=["_in"])["_in"]
    payouts = events.filter(_C("event_type") == "PAYOUT_REQUESTED").rename({"actor_id": "user_id"})
    before_payout = last_before(money_in, payouts, by="user_id", at="at", columns=["_in"])["_in"]
    payouts = payouts.with_columns(
        _gap=(_C("at").dt.epoch("us") - before_payout.dt.epoch("us")) / 1e6
    )
    last_gap = last_before(payouts, queries, by="user_id", at="at", columns=["_gap"])["_gap"]
    return fan_in.with_columns(
        secs_since_money_in=((queries["at"].dt.epoch("us") - last_in.dt.epoch("us")) / 1e6),
        last_money_in_to_out_secs=last_gap.cast(pl.Float64),
    )

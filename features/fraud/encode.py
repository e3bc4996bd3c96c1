"""The flat lake frame with Categorical ids and one currency: what every fraud window keys on."""

from __future__ import annotations

from collections.abc import Mapping

import polars as pl

from features.lake import SYSTEM_ACTOR_ID, USER_SUBJECTS


def money(events: pl.DataFrame, *, fx: Mapping[str, float] | None = None) -> pl.DataFrame:
    """``amount`` and ``price`` as Float64, converted with ``fx`` (currency -> reference units per
    unit) when given; rows in a currency missing from ``fx`` get null."""
    if fx is None:  # x * 1.0 is x: a cast, free when the amounts are Float64 already
        return events.with_columns(pl.col("amount", "price").cast(pl.Float64))
    table = pl.DataFrame({"currency": list(fx), "_rate": list(fx.values())}).cast(
        {"currency": events.schema["currency"]}  # String or Categorical, as the events'
    )
    events = events.join(table, on="currency", how="left", maintain_order="left")
    rate = pl.col("_rate")
    return events.with_columns(
        (pl.col("amount").cast(pl.Float64) * rate).alias("amount"),
        (pl.col("price").cast(pl.Float64) * rate).alias("price"),
    ).drop("_rate", strict=False)


# the columns naming a user, a device, an IP or a country, in the events and in the queries
_EVENT_IDS = (
    "actor_id",
    "subject_id",
    "seller_id",
    "device_id",
    "added_device_id",
    "ip",
    "country",
)
_QUERY_IDS = ("user_id", "device_id", "ip", "country")


def encode_ids(events: pl.DataFrame, queries: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Events (flat) and queries with users, devices, IPs and countries as ``Categorical``.

    Users: ``actor_id`` (null for the system actor), ``subject_id`` (null unless it names a
    user), ``seller_id``, the queries' ``user_id``. Devices: ``device_id``, ``added_device_id``.
    polars' categories are global: the same text has the same code in every column and frame,
    so every window and lookup downstream keys on those integer codes (``windows.key_codes``)
    instead of hashing the same strings once per feature. The compact read
    (``events.read_fraud_events``) is Categorical already: its ids cost nothing more here, where
    Int64 codes beside them cost 56 bytes an event.
    """
    events = events.with_columns(
        pl.when(pl.col("actor_id") != SYSTEM_ACTOR_ID).then("actor_id").alias("actor_id"),
        pl.when(pl.col("event_type").is_in(list(USER_SUBJECTS)))
        .then("subject_id")
        .alias("subject_id"),
    )
    return _categorical(events, _EVENT_IDS), _categorical(queries, _QUERY_IDS)


def _categorical(frame: pl.DataFrame, columns: tuple[str, ...]) -> pl.DataFrame:
    cast = [c for c in columns if not isinstance(frame.schema[c], pl.Categorical)]
    return frame.with_columns(pl.col(c).cast(pl.String).cast(pl.Categorical) for c in cast)

"""The flat lake frame in integer codes and one currency: what every fraud window keys on."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import polars as pl

from features.fraud.windows import key_codes
from features.lake import SYSTEM_ACTOR_ID, USER_SUBJECTS


def money(events: pl.DataFrame, *, fx: Mapping[str, float] | None = None) -> pl.DataFrame:
    """``amount`` and ``price`` as Float64, converted with ``fx`` (currency -> reference units per
    unit) when given; rows in a currency missing from ``fx`` get null."""
    if fx is None:
        rate = pl.lit(1.0)
    else:
        table = pl.DataFrame({"currency": list(fx), "_rate": list(fx.values())}).cast(
            {"currency": events.schema["currency"]}  # String or Categorical, as the events'
        )
        events = events.join(table, on="currency", how="left", maintain_order="left")
        rate = pl.col("_rate")
    return events.with_columns(
        (pl.col("amount").cast(pl.Float64) * rate).alias("amount"),
        (pl.col("price").cast(pl.Float64) * rate).alias("price"),
    ).drop("_rate", strict=False)


def _shared_codes(columns: list[pl.Series]) -> list[pl.Series]:
    """The same Int64 code for the same value across the columns (null stays null)."""
    out = []
    for values, codes in zip(columns, key_codes(*columns), strict=True):
        out.append(
            pl.Series(values.name, np.where(codes >= 0, codes, 0)).set(values.is_null(), None)
        )
    return out


def encode_ids(events: pl.DataFrame, queries: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Events (flat) and queries with users, devices, IPs and countries as shared Int64 codes.

    Users: ``actor_id`` (null for the system actor), ``subject_id`` (null unless it names a
    user), ``seller_id``, the queries' ``user_id``. Devices: ``device_id``, ``added_device_id``.
    Every window and lookup downstream then keys on integers: one dictionary pass here instead of
    hashing the same strings once per feature.
    """
    events = events.with_columns(
        pl.when(pl.col("actor_id") != SYSTEM_ACTOR_ID).then("actor_id").alias("actor_id"),
        pl.when(pl.col("event_type").is_in(list(USER_SUBJECTS)))
        .then("subject_id")
        .alias("subject_id"),
    )
    groups = {
        "user": [("e", "actor_id"), ("e", "subject_id"), ("e", "seller_id"), ("q", "user_id")],
        "device": [("e", "device_id"), ("e", "added_device_id"), ("q", "device_id")],
        "ip": [("e", "ip"), ("q", "ip")],
        "country": [("e", "country"), ("q", "country")],
    }
    frames = {"e": events, "q": queries}
    for members in groups.values():
        coded = _shared_codes([frames[f][c] for f, c in members])
        for (f, _), column in zip(members, coded, strict=True):
            frames[f] = frames[f].with_columns(column)
    return frames["e"], frames["q"]

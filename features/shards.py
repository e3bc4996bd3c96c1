"""Which shard a user belongs to: a stable hash of the user id, modulo the shard count.

``shard_of(user_id, shards)`` is the first 8 bytes of BLAKE2b (``hashlib.blake2b`` with
``digest_size=8``) of the id's UTF-8 bytes, read as a big-endian unsigned integer, modulo
``shards``. It is the same on every machine, every Python process and every release: Python's
own ``hash()`` is salted per process (``PYTHONHASHSEED``) and polars' ``hash`` may change between
versions, so neither may decide where a user's work runs. The hash spreads ids evenly whatever
their form (UUIDs, sequential numbers), so shards are of about equal size.

The shard count is a deployment setting (``VOUCH_SCORE_SHARDS``, ``settings``); changing it moves
users between shards, which is why sharded outputs name the count they were cut with.
"""

from __future__ import annotations

import hashlib

import polars as pl


def shard_of(user_id: str, shards: int) -> int:
    """The shard (0 .. shards-1) of ``user_id``."""
    if shards < 1:
        raise ValueError(f"shards must be >= 1, not {shards}")
    digest = hashlib.blake2b(user_id.encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") % shards


def shard_column(user_ids: pl.Series, shards: int) -> pl.Series:
    """``shard_of`` of each id, as a UInt32 series of the same length (nulls stay null)."""
    # Hashed once per distinct id: a user appears in many rows of an events frame.
    distinct = user_ids.drop_nulls().unique()
    table = pl.DataFrame(
        {
            "id": distinct,
            "shard": pl.Series([shard_of(u, shards) for u in distinct], dtype=pl.UInt32),
        },
        schema={"id": user_ids.dtype, "shard": pl.UInt32},
    )
    found = user_ids.to_frame("id").join(table, on="id", how="left", maintain_order="left")
    return found.get_column("shard").alias("shard")


def in_shard(frame: pl.DataFrame, *, shard: int, shards: int, key: str = "user_id") -> pl.DataFrame:
    """The rows of ``frame`` whose ``key`` falls in ``shard`` (order kept)."""
    if shards == 1:
        return frame
    return frame.filter(shard_column(frame.get_column(key), shards) == shard)


def reference_sample(frame: pl.DataFrame, *, size: int, key: str = "user_id") -> pl.DataFrame:
    """Up to ``size`` rows of ``frame``, the same whichever shard asks: the ids of smallest
    hash (``shard_of(id, 2**32)``), in the frame's order. All rows when there are fewer."""
    if frame.height <= size:
        return frame
    hashed = shard_column(frame.get_column(key), 2**32)
    keep = hashed.arg_sort().head(size).sort()
    return frame[keep]

from __future__ import annotations

import subprocess
import sys
import uuid

import polars as pl
import pytest

from features.shards import in_shard, shard_column, shard_of

PINNED = [1, 2, 3, 1]


def test_shard_of_is_pinned_and_not_pythons_salted_hash() -> None:
    # BLAKE2b-64 of the UTF-8 id, mod N: these values hold on any machine and release.
    assert [shard_of(u, 4) for u in ("u1", "u2", "u3", "alice")] == PINNED
    # A fresh interpreter (another PYTHONHASHSEED) agrees.
    code = (
        "from features.shards import shard_of; "
        "print([shard_of(u, 4) for u in ('u1', 'u2', 'u3', 'alice')])"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == str(PINNED)
    with pytest.raises(ValueError):
        shard_of("u1", 0)


def test_shards_split_users_evenly_and_exactly_once() -> None:
    ids = [str(uuid.UUID(int=i * 7919 + 1)) for i in range(8000)]
    frame = pl.DataFrame({"user_id": ids, "n": range(len(ids))})
    parts = [in_shard(frame, shard=k, shards=4) for k in range(4)]
    assert sum(p.height for p in parts) == frame.height
    assert pl.concat(parts).sort("n").equals(frame)
    assert min(p.height for p in parts) > 0.9 * frame.height / 4  # about equal sizes
    assert in_shard(frame, shard=0, shards=1).equals(frame)
    column = shard_column(pl.Series(["u1", None, "u1"]), 4)
    assert column.to_list() == [shard_of("u1", 4), None, shard_of("u1", 4)]

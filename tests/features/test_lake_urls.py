"""The lake's readers take object-storage URLs as they are (no S3 server here: the plumbing
only; DuckDB's httpfs does the reading where it is installed)."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from features.lake import _relation, is_url, partition_glob, read_flat


def test_urls_keep_their_double_slash_and_local_paths_stay_paths(tmp_path: Path) -> None:
    assert is_url("s3://vouch-lake/lake/events") and is_url("gs://b/events")
    assert not is_url(tmp_path) and not is_url(str(tmp_path)) and not is_url("file:///x")
    assert (
        partition_glob("s3://vouch-lake/lake/events/") == "s3://vouch-lake/lake/events/*/*.parquet"
    )
    assert partition_glob(tmp_path) == f"{tmp_path}/*/*.parquet"
    assert partition_glob(f"file://{tmp_path}") == f"{tmp_path}/*/*.parquet"
    # A local lake without partitions is still refused or empty, as before.
    with duckdb.connect() as con, pytest.raises(FileNotFoundError):
        _relation(con, tmp_path)
    assert read_flat(tmp_path).height == 0


def test_a_url_reaches_duckdb_s_object_storage_reader() -> None:
    with duckdb.connect() as con:
        relation, partitioned = _relation(con, "s3://vouch-lake/lake/events")
        assert partitioned
        assert relation == (
            "read_parquet('s3://vouch-lake/lake/events/*/*.parquet', hive_partitioning = true)"
        )
        # No download here: DuckDB itself says an s3:// glob is httpfs's to read.
        con.execute("SET autoinstall_known_extensions = false")
        with pytest.raises(duckdb.Error, match="httpfs"):
            con.sql(f"SELECT count(*) FROM {relation}").fetchall()

"""Both storage backends keep, return and forget bytes by key. The URL backend runs here on
fsspec's in-memory filesystem: the same calls an ``s3://`` URL makes through s3fs, which this
machine has no S3 server to test against."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest

from core_api.blobstore import Storage, open_storage
from core_api.blobstore.local import LocalStorage
from core_api.blobstore.remote import UrlStorage
from settings import Settings


def _round_trip(storage: Storage) -> None:
    key = f"task/{uuid.uuid4()}"
    storage.put(key, b"one")
    storage.put(key, b"two")  # a second put replaces
    assert storage.get(key) == b"two"
    storage.delete(key)
    storage.delete(key)  # already gone: not an error
    with pytest.raises(FileNotFoundError):
        storage.get(key)
    with pytest.raises(ValueError):
        storage.put("task/../../etc", b"x")


def test_local_storage_keeps_bytes_under_the_data_dir(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path)
    storage = open_storage(settings)
    assert isinstance(storage, LocalStorage) and storage.root == settings.files
    _round_trip(storage)
    assert not [p for p in settings.files.rglob("*") if p.is_file()]  # no temporary left over


def test_url_storage_round_trips_on_an_fsspec_filesystem() -> None:
    storage = open_storage(Settings(files_url=f"memory://vouch-{uuid.uuid4().hex}/files"))
    assert isinstance(storage, UrlStorage)
    _round_trip(storage)


def test_files_url_must_be_a_url() -> None:
    with pytest.raises(ValueError):
        Settings(files_url="/just/a/path")

"""Attachments on object storage through fsspec: ``s3://bucket/prefix`` (with the s3fs package,
credentials from the usual ``AWS_*`` variables or instance role), or any other fsspec URL
(``gs://`` with gcsfs, ``memory://`` in tests)."""

from __future__ import annotations

import contextlib
from typing import Any

from fsspec.core import url_to_fs

from core_api.blobstore import checked


class UrlStorage:
    def __init__(self, url: str, **options: Any) -> None:
        # fsspec caches a filesystem per protocol and options, so this is cheap per request.
        self.fs, root = url_to_fs(url, **options)
        self.root = root.rstrip("/")

    def _path(self, key: str) -> str:
        return f"{self.root}/{checked(key)}"

    def put(self, key: str, data: bytes) -> None:
        self.fs.pipe_file(self._path(key), data)

    def get(self, key: str) -> bytes:
        return bytes(self.fs.cat_file(self._path(key)))

    def delete(self, key: str) -> None:
        with contextlib.suppress(FileNotFoundError):
            self.fs.rm_file(self._path(key))

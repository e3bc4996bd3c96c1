"""Where attachment bytes live: a folder under the data dir, or object storage by URL.

A backend stores opaque bytes under a key the files service makes (``<parent kind>/<file id>``,
never a user's file name); the database row says what the bytes are and who may read them.
"""

from __future__ import annotations

import re
from typing import Protocol

from settings import Settings

KEY_RE = re.compile(r"^[a-z]+/[0-9a-f-]{36}$")


class Storage(Protocol):
    def put(self, key: str, data: bytes) -> None: ...

    def get(self, key: str) -> bytes:
        """The bytes under ``key``; ``FileNotFoundError`` when there are none."""
        ...

    def delete(self, key: str) -> None:
        """Remove ``key``; a key already gone is not an error."""
        ...


def checked(key: str) -> str:
    """Keys are made by the service; anything else (``..``, a slash too many) is a bug."""
    if not KEY_RE.match(key):
        raise ValueError(f"not a storage key: {key!r}")
    return key


def open_storage(settings: Settings) -> Storage:
    if settings.files_url:
        from core_api.blobstore.remote import UrlStorage

        return UrlStorage(settings.files_url)
    from core_api.blobstore.local import LocalStorage

    return LocalStorage(settings.files)

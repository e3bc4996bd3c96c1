"""The online store: protocols in ``base``, one file per backend (``redis``, ``sqlite``)."""

from __future__ import annotations

from serving.store.base import Ask, Counter, DecisionStore, Facts, ScoreStore
from serving.store.redis import RedisStore
from serving.store.sqlite import SQLiteStore
from settings import Settings

Store = RedisStore | SQLiteStore


def open_store(settings: Settings, *, timeout_s: float = 0.05, progress: bool = False) -> Store:
    """Redis when ``VOUCH_REDIS_URL`` is set, else the SQLite file under the data dir."""
    if settings.redis_url:
        return RedisStore(
            settings.redis_url,
            timeout_s=timeout_s,
            progress=progress,
            cluster=settings.redis_cluster,
        )
    return SQLiteStore(settings.online_store, timeout_s=timeout_s, progress=progress)


__all__ = [
    "Ask",
    "Counter",
    "DecisionStore",
    "Facts",
    "RedisStore",
    "SQLiteStore",
    "ScoreStore",
    "Store",
    "open_store",
]

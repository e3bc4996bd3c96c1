"""Feed timelines: fan-out on write into capped per-viewer timelines, read back ranked by the
feed ranker's published scores under the trust policy, a page at a time.

Modules: ``base`` (the two protocols and their records), ``timelines`` (the read: ranking,
policy, cursor), ``redis`` and ``sqlite`` (the backends), ``publish`` (versions of ranker
scores). ``open_feed`` picks the backend from the settings: Redis when ``VOUCH_REDIS_URL`` is
set, else a SQLite file under the data dir.
"""

from __future__ import annotations

from serving.feed.base import FeedManifest, FeedVersions, Signals, Timelines, Window
from serving.feed.publish import prune, publish_feed
from serving.feed.redis import RedisFeed
from serving.feed.sqlite import SqliteFeed
from serving.feed.timelines import Item, Page, fan_out, read_feed
from settings import Settings, get_settings


def open_feed(settings: Settings | None = None) -> RedisFeed | SqliteFeed:
    """The configured feed backend (it implements both ``Timelines`` and ``FeedVersions``):
    Redis at ``redis_url`` if set, else the settings' embedded feed file."""
    s = settings or get_settings()
    if s.redis_url:
        return RedisFeed.from_url(s.redis_url, cluster=s.redis_cluster)
    return SqliteFeed(s.online_feed)


__all__ = [
    "FeedManifest",
    "FeedVersions",
    "Item",
    "Page",
    "RedisFeed",
    "Signals",
    "SqliteFeed",
    "Timelines",
    "Window",
    "fan_out",
    "open_feed",
    "prune",
    "publish_feed",
    "read_feed",
]

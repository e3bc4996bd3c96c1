"""Publish a feed version: write it whole, flip the pointer, then drop what readers no longer
need. A version stays readable for ``grace`` after a newer one flips, so the cursors of feeds
opened on it keep their order while a reader pages through."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

import polars as pl

from serving.feed.base import AUTHOR_SCHEMA, PRIOR_SCHEMA, SCORE_SCHEMA, FeedManifest, FeedVersions
from serving.keys import new_version

GRACE = timedelta(hours=1)


def publish_feed(
    store: FeedVersions,
    *,
    scores: pl.DataFrame,
    priors: pl.DataFrame,
    authors: pl.DataFrame,
    as_of: datetime,
    model_version: str,
    demotion: float,
    flagged_policy: str = "remove",
    grace: timedelta = GRACE,
    now: datetime | None = None,
) -> FeedManifest:
    """Write, flip, prune. Returns the new version's manifest."""
    if flagged_policy not in ("remove", "demote"):
        raise ValueError(f"flagged_policy must be remove or demote, not {flagged_policy!r}")
    if math.isnan(demotion) or demotion > 0:
        raise ValueError(f"demotion must be <= 0, not {demotion}")
    now = (now or datetime.now(UTC)).astimezone(UTC)
    scores = scores.select(SCORE_SCHEMA.keys()).cast(SCORE_SCHEMA).drop_nulls()
    version = new_version(now)
    manifest = FeedManifest(
        version=version,
        published_at=now,
        as_of=as_of.astimezone(UTC),
        model_version=model_version,
        viewers=priors.height,
        scores=scores.height,
        demotion=demotion,
        flagged_policy=flagged_policy,
    )
    store.write(
        version,
        scores=scores,
        priors=priors.select(PRIOR_SCHEMA.keys()).cast(PRIOR_SCHEMA),
        authors=authors.select(AUTHOR_SCHEMA.keys()).cast(AUTHOR_SCHEMA),
        manifest=manifest,
    )
    store.flip(version)
    prune(store, grace=grace, now=now)
    return manifest


def _started(version: str) -> datetime:
    """When a version id (``keys.new_version``) was made."""
    return datetime.strptime(version, "%Y%m%dT%H%M%S%fZ").replace(tzinfo=UTC)


def prune(
    store: FeedVersions, *, grace: timedelta = GRACE, now: datetime | None = None
) -> list[str]:
    """Drop every version superseded more than ``grace`` ago (by the next complete version's
    publish time) and every incomplete write older than ``grace``. Returns what was dropped."""
    now = now or datetime.now(UTC)
    current, found = store.versions()
    dropped: list[str] = []
    successor: datetime | None = None  # publish time of the next newer complete version
    for entry in reversed(found):
        version = entry if isinstance(entry, str) else entry.version
        if version == current:
            pass
        elif isinstance(entry, str):
            if _started(version) <= now - grace:
                dropped.append(version)
        elif successor is not None and successor <= now - grace:
            dropped.append(version)
        if not isinstance(entry, str):
            successor = entry.published_at
    for version in dropped:
        store.drop(version)
    return dropped

"""Versioned publishing: write a whole score set, flip one pointer, drop what is past its grace.

A reader sees the old set or the new one, never a mix: records go under a version nobody
points at, the pointer moves only once the version's manifest (written last) exists, and a
publisher that dies half-way leaves an incomplete version that the next prune removes.
Versions stay for ``grace`` after they stop being current, so readers holding one finish.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import polars as pl

from serving import keys
from serving.keys import Manifest
from serving.store.base import ScoreStore

GRACE = timedelta(minutes=10)
SCORE_COLUMNS = ("user_id", "trust", "fraud_risk", "band", "reasons", "model_version", "scored_at")


@dataclass(frozen=True)
class Published:
    version: str
    records: int
    dropped: tuple[str, ...]
    seconds: float


def check_scores(scores: pl.DataFrame) -> list[str]:
    """What would make ``scores`` unpublishable (empty when fine)."""
    problems = [f"missing column {c}" for c in SCORE_COLUMNS if c not in scores.columns]
    if problems:
        return problems
    if scores.height == 0:
        problems.append("no rows")
    users = scores.get_column("user_id")
    if users.null_count() or users.n_unique() != users.len():
        problems.append("user_id must be unique and non-null")
    for col in ("trust", "fraud_risk"):
        values = scores.get_column(col)
        if values.null_count() or not values.is_between(0, 1).all():
            problems.append(f"{col} must be in [0, 1] with no nulls")
    if scores.get_column("model_version").n_unique() != 1:
        problems.append("one model_version per published set")
    return problems


def publish(
    store: ScoreStore,
    scores: pl.DataFrame,
    *,
    snapshot: str,
    now: datetime | None = None,
    grace: timedelta = GRACE,
) -> Published:
    """Publish ``scores`` (``user_scores`` rows) as a new version and make it current."""
    problems = check_scores(scores)
    if problems:
        raise ValueError("refusing to publish: " + "; ".join(problems))
    start = datetime.now(UTC)
    now = now or start
    version = keys.new_version(now)
    scored_at = scores.get_column("scored_at").max()
    if not isinstance(scored_at, datetime):  # a column of another type, or nulls only
        raise ValueError(f"refusing to publish: scored_at must be a datetime, not {scored_at!r}")
    manifest = Manifest(
        version=version,
        published_at=now,
        scored_at=scored_at,
        model_version=str(scores.get_column("model_version")[0]),
        snapshot=snapshot,
        records=scores.height,
        pages=keys.pages_for(scores.height),
    )
    store.write(version, scores, manifest=manifest)
    store.flip(version)
    dropped = prune(store, now=now, grace=grace)
    return Published(version, scores.height, dropped, (datetime.now(UTC) - start).total_seconds())


def prune(
    store: ScoreStore, *, now: datetime | None = None, grace: timedelta = GRACE
) -> tuple[str, ...]:
    """Drop every non-current version once ``grace`` has passed since it was superseded (for
    versions older than the current one: since the current one was published) or since it
    started (a newer, unfinished or abandoned publish). The current version always stays."""
    now = now or datetime.now(UTC)
    current, manifests = store.versions()
    flipped_at = next((m.published_at for m in manifests if m.version == current), now)
    dropped = []
    for m in manifests:
        if m.version != current and now - max(m.published_at, flipped_at) > grace:
            store.drop(m.version)
            dropped.append(m.version)
    return tuple(dropped)

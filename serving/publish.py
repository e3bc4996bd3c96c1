"""Versioned publishing: write a whole score set, flip one pointer, drop what is past its grace.

A reader sees the old set or the new one, never a mix: records go under a version nobody
points at, the pointer moves only once the version's manifest (written last) exists, and a
publisher that dies half-way leaves an incomplete version that the next prune removes.
Versions stay for ``grace`` after they stop being current, so readers holding one finish.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Protocol

import polars as pl

from serving import keys
from serving.credit import credit_problems
from serving.keys import Manifest
from serving.store.base import Ask, DecisionStore, ScoreStore

GRACE = timedelta(minutes=10)
# The published-scores table: what ``models`` hands to serving (``user_scores``), column -> dtype.
# It lives here, at the boundary, because serving imports nothing of ``features`` or ``models``.
USER_SCORES: dict[str, pl.DataType] = {
    "user_id": pl.String(),
    "trust": pl.Float64(),
    "fraud_risk": pl.Float64(),
    "band": pl.String(),
    "reasons": pl.List(pl.String()),
    "model_version": pl.String(),
    "scored_at": pl.Datetime("us", "UTC"),
}
BAND_NAMES = ("low", "medium", "high")  # what the access rules key on


@dataclass(frozen=True)
class Published:
    version: str
    records: int
    dropped: tuple[str, ...]
    seconds: float


def check_scores(scores: pl.DataFrame) -> list[str]:
    """What would make ``scores`` unpublishable (empty when fine): the one publishable rule, run
    by the pipeline's blocking check and again by :func:`publish` itself."""
    problems = [f"missing column {c}" for c in USER_SCORES if c not in scores.columns]
    problems += [
        f"{c} is {scores.schema[c]}, not {dtype}"
        for c, dtype in USER_SCORES.items()
        if c in scores.columns and scores.schema[c] != dtype
    ]
    if problems:
        return problems
    if scores.height == 0:
        problems.append("no rows")
    nulls = {c: n for c in USER_SCORES if (n := scores.get_column(c).null_count())}
    if nulls:
        problems.append(f"nulls: {nulls}")
    if scores.get_column("user_id").n_unique() != scores.height:
        problems.append("duplicate users")
    for col in ("trust", "fraud_risk"):
        if not scores.get_column(col).is_between(0, 1).all():
            problems.append(f"{col} outside [0, 1]")
    if not scores.get_column("band").is_in(BAND_NAMES).all():
        problems.append("unknown band")
    if scores.get_column("model_version").n_unique() != 1:
        problems.append("one model_version per published set")
    return problems + credit_problems(scores)


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


class ServingStore(ScoreStore, DecisionStore, Protocol):
    """A store that publishes and serves: what reading a publication back needs."""


def published_mismatches(
    store: ServingStore, scores: pl.DataFrame, *, snapshot: str, sample: int = 25
) -> list[str]:
    """How the store's current version differs from ``scores`` (empty when it serves exactly
    them): the manifest's counts and provenance, then the records of ``sample`` users spread
    over the frame, read back through the decision path's own ``fetch``."""
    current, manifests = store.versions()
    manifest = next((m for m in manifests if m.version == current), None)
    if manifest is None:
        return ["nothing is published"]
    problems = []
    expected = {
        "records": scores.height,
        "model_version": str(scores.get_column("model_version")[0]),
        "scored_at": scores.get_column("scored_at").max(),
        "snapshot": snapshot,
    }
    for name, want in expected.items():
        if getattr(manifest, name) != want:
            problems.append(f"{name}: published {getattr(manifest, name)!r}, scored {want!r}")
    step = max(1, scores.height // max(sample, 1))
    for row in scores.gather_every(step).head(sample).iter_rows(named=True):
        record = store.fetch(Ask(row["user_id"])).record
        if record is None:
            problems.append(f"user {row['user_id']}: not published")
        elif record.band != row["band"] or abs(record.fraud_risk - row["fraud_risk"]) > 1e-4:
            problems.append(
                f"user {row['user_id']}: published {record.band}/{record.fraud_risk:.4f}, "
                f"scored {row['band']}/{row['fraud_risk']:.4f}"
            )
        elif "credit_limit" in row:
            published = record.credit.limit if record.credit is not None else None
            if published != row["credit_limit"]:
                problems.append(
                    f"user {row['user_id']}: credit limit {published}, "
                    f"computed {row['credit_limit']}"
                )
    return problems

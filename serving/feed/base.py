"""What a feed backend must do, whichever store holds it (``redis.py``, ``sqlite.py``).

Two small protocols, both implemented by each backend. ``Timelines`` is the request side: the
fan-out's ``push``, and the two reads of a feed request, one round trip each (``window``: the
current version and the viewer's newest posts; ``signals``: that version's scores of those
posts and the trust policy of their authors). ``FeedVersions`` is the publisher's side: write a
whole version, flip one pointer, list and drop versions.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

import orjson
import polars as pl

from serving.keys import PRIOR_FRESH, PRIOR_STALE, TIMELINE_CAP

# What ``push`` takes and the publisher writes, column by column.
ENTRY_SCHEMA = pl.Schema(
    {
        "viewer_id": pl.String(),
        "post_id": pl.String(),
        "author_id": pl.String(),
        "created_at": pl.Datetime("us", "UTC"),
    }
)
SCORE_SCHEMA = pl.Schema({"viewer_id": pl.String, "post_id": pl.String, "score": pl.Float64})
PRIOR_SCHEMA = pl.Schema({"viewer_id": pl.String, "fresh": pl.Float64, "stale": pl.Float64})
AUTHOR_SCHEMA = pl.Schema({"author_id": pl.String, "policy": pl.String})  # flagged | low_trust


def viewer_records(scores: pl.DataFrame, priors: pl.DataFrame) -> Iterator[tuple[str, bytes]]:
    """``(viewer_id, record)`` per viewer: the JSON object both backends store, post_id -> raw
    score plus ``PRIOR_FRESH`` / ``PRIOR_STALE`` when known."""
    records: dict[str, dict[str, float]] = {}
    for viewer, fresh, stale in priors.select("viewer_id", "fresh", "stale").iter_rows():
        record = records.setdefault(viewer, {})
        if fresh is not None:
            record[PRIOR_FRESH] = fresh
        if stale is not None:
            record[PRIOR_STALE] = stale
    for (viewer,), part in scores.partition_by("viewer_id", as_dict=True).items():
        got = dict(zip(part["post_id"].to_list(), part["score"].to_list(), strict=True))
        records.setdefault(str(viewer), {}).update(got)
    for viewer, record in records.items():
        yield viewer, orjson.dumps(record)


def read_record(raw: bytes | str | None) -> tuple[dict[str, float], float | None, float | None]:
    """A stored viewer record -> (post_id -> score, fresh prior, stale prior)."""
    record: dict[str, float] = orjson.loads(raw) if raw else {}
    return record, record.get(PRIOR_FRESH), record.get(PRIOR_STALE)


@dataclass(frozen=True, slots=True)
class Window:
    """Round trip 1: the current version (``None`` when nothing is published) and the
    viewer's timeline entries in the asked range, newest first, as parallel lists (a read
    handles a thousand of them: no object per entry)."""

    current: str | None
    posts: list[str]
    authors: list[str]
    ts: list[int]  # created_at, epoch µs


@dataclass(frozen=True, slots=True)
class FeedManifest:
    """A published feed version: when, as of which snapshot, from which model, and the policy
    the online read applies (``demotion``: the score shift of low-trust authors;
    ``flagged_policy``: ``remove`` or ``demote``)."""

    version: str
    published_at: datetime
    as_of: datetime
    model_version: str
    viewers: int
    scores: int
    demotion: float
    flagged_policy: str

    def encode(self) -> dict[str, str]:
        return {
            "version": self.version,
            "published_at": self.published_at.isoformat(),
            "as_of": self.as_of.isoformat(),
            "model_version": self.model_version,
            "viewers": str(self.viewers),
            "scores": str(self.scores),
            "demotion": repr(self.demotion),
            "flagged_policy": self.flagged_policy,
        }

    @classmethod
    def decode(cls, raw: dict[str, str]) -> FeedManifest:
        return cls(
            version=raw["version"],
            published_at=datetime.fromisoformat(raw["published_at"]),
            as_of=datetime.fromisoformat(raw["as_of"]),
            model_version=raw["model_version"],
            viewers=int(raw["viewers"]),
            scores=int(raw["scores"]),
            demotion=float(raw["demotion"]),
            flagged_policy=raw["flagged_policy"],
        )


@dataclass(frozen=True, slots=True)
class Signals:
    """Round trip 2: the version's manifest, a raw score per asked post (``None``: unscored),
    the viewer's two priors, and which of the asked authors are flagged or low-trust."""

    manifest: FeedManifest
    scores: list[float | None]
    fresh: float | None
    stale: float | None
    flagged: frozenset[str]
    low_trust: frozenset[str]


class Timelines(Protocol):
    def push(self, entries: pl.DataFrame, *, cap: int = TIMELINE_CAP) -> int:
        """Add ``entries`` (``ENTRY_SCHEMA``) to their viewers' timelines, keep each timeline's
        newest ``cap``; idempotent. Returns the number of entries sent."""
        ...

    def window(
        self, viewer_id: str, *, newest: int | None, oldest: int | None, limit: int
    ) -> Window:
        """The current version and up to ``limit`` entries with ``oldest <= ts <= newest``
        (``None``: unbounded), newest first, ties by post id descending."""
        ...

    def signals(
        self, version: str, viewer_id: str, *, posts: Sequence[str], authors: Sequence[str]
    ) -> Signals | None:
        """What ``version`` says about these posts and authors; ``None`` if it is gone."""
        ...


class FeedVersions(Protocol):
    def write(
        self,
        version: str,
        *,
        scores: pl.DataFrame,
        priors: pl.DataFrame,
        authors: pl.DataFrame,
        manifest: FeedManifest,
    ) -> None:
        """Store a whole version (frames in ``SCORE_SCHEMA``, ``PRIOR_SCHEMA``,
        ``AUTHOR_SCHEMA``), manifest last; readers cannot see it until :meth:`flip`."""
        ...

    def flip(self, version: str) -> None:
        """Point readers at ``version``, atomically."""
        ...

    def versions(self) -> tuple[str | None, list[FeedManifest | str]]:
        """The current version and every version oldest first: its manifest, or its bare id
        when its write never completed."""
        ...

    def drop(self, version: str) -> None:
        """Remove every record of a version (callers never drop the current one)."""
        ...

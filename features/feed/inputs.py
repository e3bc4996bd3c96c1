"""The feed's one reader of the lake: everything ``features.feed`` and ``models.feed`` know of the
lake comes through here, read once per cut-off, and flows on as plain frames.

:func:`load_inputs` reads posts, engagements (with the dwell time of views), follows, trust-link
timelines and flag changes before a cut-off into one :class:`FeedInputs`. Everything carries its
own event time, so features can be cut again per candidate (strictly before its request time);
the cut-off only bounds how much is read. Labels need what happened *after* the cut-off: asked
with ``labels_until``, the same read goes on to that time and keeps those engagements apart
(``outcomes``), where a feature cannot see them.

Also here: the fan-out candidates (:func:`followed_posts`, :func:`pushed_posts`: every post in
the timelines of its author's followers) and the trust snapshots that author trust is read from.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from pathlib import Path

import polars as pl

from features.lake import EventSource, is_url, read_events, utc
from features.platform_graph.build import TRUST_TYPES
from features.platform_graph.neighbourhood import flag_history, flagged_in
from features.platform_graph.trust import platform_trust

ENGAGEMENT_KINDS = ("view", "like", "comment", "share")  # also the label grades 0..3
TRUST_SNAPSHOT = pl.Schema(
    {"user_id": pl.String(), "snapshot_at": pl.Datetime("us", "UTC"), "trust": pl.Float64()}
)


@dataclass(frozen=True)
class FeedInputs:
    """The lake as the feed sees it before ``before`` (the cut-off)."""

    posts: pl.DataFrame  # post_id, author_id, created_at, topic, has_link, ..., visibility
    # viewer_id, post_id, author_id, engaged_at, engagement, ..., grade (read from the lake:
    # ``COMPACT``'s types; any other frame with these columns will do)
    engagements: pl.DataFrame
    follows: pl.DataFrame  # viewer_id, author_id, followed_at (first follow of the pair)
    trust_links: pl.DataFrame  # src, dst, changed_at, weight (strongest live trust type after)
    flags: pl.DataFrame  # user_id, changed_at, flagged
    # event_id (as in ``engagements``), dwell_ms of the views that carry a dwell time; None:
    # dwell unknown, not zero
    dwell: pl.DataFrame | None = None
    before: datetime | None = None
    # Engagements in [before, labels_until), columns as ``engagements``: labels only, never
    # features (None: not read).
    outcomes: pl.DataFrame | None = None
    labels_until: datetime | None = None

    def flagged(self) -> set[str]:
        """Users flagged (confirmed fraud or banned, not cleared since) at the cut-off."""
        return flagged_in(self.flags)


def read_posts(
    source: EventSource, *, before: datetime, since: datetime | None = None
) -> pl.DataFrame:
    return read_events(
        source,
        {
            "post_id": "subject_id",
            "author_id": "actor_id",
            "created_at": "occurred_at",
            "topic": "payload.topic",
            "has_link": "payload.has_link",
            "has_media": "payload.has_media",
            "text_length": "payload.text_length",
            "visibility": "payload.visibility",
        },
        types=("POST_CREATED",),
        before=before,
        since=since,
    ).unique("post_id", keep="first")


# The engagements are half the lake's events and what every feed step holds whole, so they are
# read a day at a time (DuckDB's result and its Arrow copy cost a day, not the lake) and kept in
# types of a few bytes a row: ids Categorical (4 bytes a row, each distinct text once), the kind
# an Enum, and ``event_id`` the row's number in this read rather than the lake's 36-character id
# (only ``dwell`` refers to it; the lake's ids are unique). ~270 -> ~45 bytes of RSS a row.
# Lake bytes per read: a day or two of 100,000 users (~27 MB a day), the sparse early days at once.
READ_BATCH_BYTES = 32 << 20
COMPACT: dict[str, pl.DataType] = {
    "viewer_id": pl.Categorical(),
    "post_id": pl.Categorical(),
    "author_id": pl.Categorical(),
    "engagement": pl.Enum(ENGAGEMENT_KINDS),
}


def _read_windows(source: EventSource, before: datetime) -> list[tuple[datetime | None, datetime]]:
    """``[since, until)`` windows, in time order, that cover everything before ``before``: runs
    of consecutive day partitions of a local lake up to ``READ_BATCH_BYTES`` of files each (a
    partition holds the events of its UTC day); one window for any other source."""
    if isinstance(source, pl.DataFrame) or is_url(source):
        return [(None, before)]
    root = Path(str(source).removeprefix("file://"))
    last = before.date().isoformat()
    starts: list[datetime] = []
    size = 0
    for day in sorted(p for p in root.glob("event_date=*") if p.name[11:] <= last):
        day_bytes = sum(f.stat().st_size for f in day.glob("*.parquet"))
        if size and size + day_bytes > READ_BATCH_BYTES:
            starts.append(datetime.combine(date.fromisoformat(day.name[11:]), time(), tzinfo=UTC))
            size = 0
        size += day_bytes
    return list(zip([None, *starts], [*starts, before], strict=True))


# Name in the frame -> the lake column it is read from.
ENGAGEMENT_COLUMNS = {
    "viewer_id": "actor_id",
    "post_id": "subject_id",
    "author_id": "payload.author_id",
    "engaged_at": "occurred_at",
    "engagement": "payload.engagement",
    "feed_position": "payload.feed_position",
    "dwell_ms": "payload.dwell_ms",
}


def read_engagements(source: EventSource, *, before: datetime) -> pl.DataFrame:
    """POST_ENGAGED before ``before``: the ``COMPACT`` columns, engaged_at, feed_position,
    ``event_id`` (UInt32, the row's number in this read), dwell_ms and ``grade``."""
    columns = ENGAGEMENT_COLUMNS
    before = utc(before)
    parts = [
        read_events(source, columns, types=("POST_ENGAGED",), before=until, since=since)
        .cast(COMPACT)  # type: ignore[arg-type]
        .shrink_to_fit()  # a cast column keeps spare capacity for as long as the frame lives
        for since, until in _read_windows(source, before)
    ]
    frame = pl.concat(parts, rechunk=False)  # no copy of the whole frame
    grade = pl.col("engagement").to_physical().cast(pl.Int8)  # the Enum's order is the grade's
    firsts = ("viewer_id", "post_id", "author_id", "engaged_at", "engagement", "feed_position")
    return frame.with_row_index("event_id").select(*firsts, "event_id", "dwell_ms", grade=grade)


def read_follows(source: EventSource, *, before: datetime) -> pl.DataFrame:
    return read_events(
        source,
        {"viewer_id": "actor_id", "author_id": "subject_id", "followed_at": "min(occurred_at)"},
        types=("USER_FOLLOWED",),
        before=before,
        group_by=("viewer_id", "author_id"),
    )


def read_trust_links(source: EventSource, *, before: datetime) -> pl.DataFrame:
    """Per (src, dst) and change time: the weight of the strongest trust connection still live."""
    events = read_events(
        source,
        {
            "src": "actor_id",
            "dst": "subject_id",
            "changed_at": "occurred_at",
            "edge_type": "payload.edge_type",
            "w": "CASE WHEN event_type = 'TRUST_CONNECTION_ADDED' THEN payload.weight ELSE 0 END",
            "event_id": "event_id",
        },
        types=("TRUST_CONNECTION_ADDED", "TRUST_CONNECTION_REMOVED"),
        before=before,
    ).sort("src", "dst", "changed_at", "event_id")
    live = [
        pl.when(pl.col("edge_type") == t)
        .then(pl.col("w"))
        .otherwise(None)
        .forward_fill()
        .over("src", "dst")
        .fill_null(0.0)
        .alias(t)
        for t in TRUST_TYPES
    ]
    return (
        events.with_columns(live)
        .with_columns(weight=pl.max_horizontal(*TRUST_TYPES))
        .group_by("src", "dst", "changed_at", maintain_order=True)
        .agg(pl.col("weight").last())
    )


def load_inputs(
    source: EventSource,
    *,
    before: datetime,
    labels_until: datetime | None = None,
    flag_statuses: tuple[str, ...] = ("banned",),
) -> FeedInputs:
    """Everything the feed reads of the lake before ``before``, and, with ``labels_until``, the
    engagements from ``before`` to it as ``outcomes``."""
    before = utc(before)
    until = before if labels_until is None else max(utc(labels_until), before)
    engaged = read_engagements(source, before=until)
    seen = engaged.filter(pl.col("engaged_at") < before)
    timed = (pl.col("engagement") == "view") & pl.col("dwell_ms").is_not_null()
    return FeedInputs(
        posts=read_posts(source, before=before),
        engagements=seen.drop("dwell_ms"),
        follows=read_follows(source, before=before),
        trust_links=read_trust_links(source, before=before),
        flags=flag_history(source, before=before, statuses=flag_statuses),
        dwell=seen.filter(timed).select("event_id", "dwell_ms"),
        before=before,
        outcomes=(
            None
            if labels_until is None
            else engaged.filter(pl.col("engaged_at") >= before).drop("dwell_ms")
        ),
        labels_until=None if labels_until is None else until,
    )


def pushed_posts(posts: pl.DataFrame, follows: pl.DataFrame, *, since: datetime) -> pl.DataFrame:
    """``viewer_id, post_id, author_id, created_at``: every non-private post of ``posts`` created
    from ``since`` on, once per follower who followed its author before it was created (fan-out
    on write; follows are never undone in the event contract). Newest first per viewer."""
    fresh = posts.filter(
        (pl.col("created_at") >= utc(since)) & (pl.col("visibility") != "private")
    ).select("post_id", "author_id", "created_at")
    pushed = (pl.col("followed_at") < pl.col("created_at")) & (
        pl.col("viewer_id") != pl.col("author_id")
    )
    return (
        fresh.join(follows, on="author_id")
        .filter(pushed)
        .select("viewer_id", "post_id", "author_id", "created_at")
        .sort("viewer_id", "created_at", "post_id", descending=[False, True, False])
    )


def followed_posts(source: EventSource, *, since: datetime, before: datetime) -> pl.DataFrame:
    """:func:`pushed_posts` of the posts created in [since, before), read from the lake: what
    the timelines hold at ``before`` (two small reads, without the engagements)."""
    before = utc(before)
    posts = read_posts(source, before=before, since=utc(since))
    return pushed_posts(posts, read_follows(source, before=before), since=since)


def trust_snapshots(source: EventSource, times: list[datetime]) -> pl.DataFrame:
    """``(user_id, snapshot_at, trust)`` from ``features.platform_graph.trust`` at each time (a
    snapshot holds only events before its time): where author trust is read from."""
    frames = [
        platform_trust(source, utc(t)).select("user_id", "snapshot_at", "trust") for t in times
    ]
    return pl.concat(frames) if frames else pl.DataFrame(schema=TRUST_SNAPSHOT)

"""The online-store contract: every key, every record layout, shared by the publisher, the
decision path, the feed and both backends (Redis and SQLite store the same records).

Scores are published as a whole *version*: ``scores:{version}:{bucket}`` hashes (field =
user id, value = a JSON :class:`ScoreRecord`), a ``meta`` hash per version, the sorted set of
versions, and one pointer ``scores:current`` that flips last. Users are spread over ``BUCKETS``
hashes by the last four hex digits of their UUID: cheap to compute per request and vectorised
at publish time, uniform for random UUIDs, and a Redis Cluster shards the buckets by key.
Dropping a version is ``UNLINK`` of its ``BUCKETS + 1`` keys, never a ``SCAN``.

Everything else is per request and short-lived: rate-limit counters (fixed windows, the window
index is in the key so a lost expiry cannot make a counter outlive its window) and the devices
and countries a user has been seen on, for novelty checks.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass
from datetime import UTC, datetime

import polars as pl

PREFIX = "vouch"
BUCKETS = 1024
CURRENT = f"{PREFIX}:scores:current"  # -> version id
VERSIONS = f"{PREFIX}:scores:versions"  # sorted set: version id -> published_at (epoch s)
SCORE_FIELDS = ("trust", "fraud_risk", "band", "confirmed_fraud", "reasons")
META_FIELDS = ("version", "published_at", "scored_at", "model_version", "snapshot", "records")


def bucket(user_id: str) -> int:
    """The score bucket of one user id (the same number :func:`buckets` gives)."""
    try:
        return int(user_id[-4:], 16) % BUCKETS
    except ValueError:  # not a UUID: still a stable bucket
        return zlib.crc32(user_id.encode()) % BUCKETS


def buckets(user_ids: pl.Series) -> pl.Series:
    """:func:`bucket` for a whole column, vectorised except for ids that are not hex-ended."""
    hexed = user_ids.str.slice(-4).str.to_integer(base=16, strict=False)
    if hexed.null_count():
        odd = hexed.is_null() & user_ids.is_not_null()
        fixed = [zlib.crc32(u.encode()) for u in user_ids.filter(odd).to_list()]
        hexed = hexed.scatter(odd.arg_true(), fixed)
    return (hexed % BUCKETS).cast(pl.Int64).alias("bucket")


def score_key(version: str, bucket_no: int) -> str:
    return f"{PREFIX}:scores:{version}:{bucket_no}"


def meta_key(version: str) -> str:
    return f"{PREFIX}:scores:{version}:meta"


def version_keys(version: str) -> list[str]:
    """Every key a score version owns."""
    return [meta_key(version), *(score_key(version, b) for b in range(BUCKETS))]


def new_version(now: datetime | None = None) -> str:
    """Sortable and unique enough for one publisher per second: ``20261126T101500Z``.
    Microseconds keep two publishes in the same second apart."""
    return (now or datetime.now(UTC)).strftime("%Y%m%dT%H%M%S%fZ")


def rate_key(scope: str, subject: str, action: str, *, window_s: int, now_s: float) -> str:
    """Counter of ``action`` by ``subject`` (a user id or an IP) in the current fixed window."""
    return f"{PREFIX}:rate:{scope}:{subject}:{action}:{window_s}:{int(now_s // window_s)}"


def seen_key(user_id: str, kind: str) -> str:
    """The set of ``kind`` (``device`` or ``country``) values the user was seen with."""
    return f"{PREFIX}:seen:{kind}:{user_id}"


@dataclass(frozen=True, slots=True)
class ScoreRecord:
    """What the decision path knows of a user: the pipeline's ``user_scores`` row.

    Stored as one line of text, ``trust|fraud_risk|band|confirmed_fraud|reason;reason``: a
    third the size of JSON and built in one vectorised pass, which is what lets a million
    records publish in about a second. A ``|`` inside a reason is written as ``/``."""

    trust: float
    fraud_risk: float
    band: str
    confirmed_fraud: bool
    reasons: tuple[str, ...]

    @classmethod
    def decode(cls, raw: bytes | str) -> ScoreRecord:
        text = raw.decode() if isinstance(raw, bytes) else raw
        trust, risk, band, confirmed, reasons = text.split("|", 4)
        return cls(
            trust=float(trust),
            fraud_risk=float(risk),
            band=band,
            confirmed_fraud=confirmed == "1",
            reasons=tuple(reasons.split(";")) if reasons else (),
        )

    def encode(self) -> str:
        said = ";".join(self.reasons).replace("|", "/")
        return (
            f"{self.trust:.6g}|{self.fraud_risk:.6g}|{self.band}|{int(self.confirmed_fraud)}|{said}"
        )


@dataclass(frozen=True, slots=True)
class Manifest:
    """A published version: when, from what, how many records."""

    version: str
    published_at: datetime
    scored_at: datetime
    model_version: str
    snapshot: str
    records: int

    def encode(self) -> dict[str, str]:
        return {
            "version": self.version,
            "published_at": self.published_at.isoformat(),
            "scored_at": self.scored_at.isoformat(),
            "model_version": self.model_version,
            "snapshot": self.snapshot,
            "records": str(self.records),
        }

    @classmethod
    def decode(cls, raw: dict[str, str]) -> Manifest:
        return cls(
            version=raw["version"],
            published_at=datetime.fromisoformat(raw["published_at"]),
            scored_at=datetime.fromisoformat(raw["scored_at"]),
            model_version=raw["model_version"],
            snapshot=raw["snapshot"],
            records=int(raw["records"]),
        )


def encode_scores(scores: pl.DataFrame) -> pl.DataFrame:
    """``user_scores`` -> ``user_id, bucket, record`` (:class:`ScoreRecord` text), vectorised."""
    confirmed = (
        pl.col("confirmed_fraud").fill_null(False)
        if "confirmed_fraud" in scores.columns
        else pl.lit(False)
    )
    # Reasons are our own sentences: a ";" inside one would only split it in two, a "|" would
    # shift fields, so only "|" is replaced (on the joined text: one pass, not one per item).
    reasons = pl.col("reasons").list.join(";").str.replace_all("|", "/", literal=True)
    record = pl.concat_str(
        pl.col("trust").round(6).cast(pl.String), pl.lit("|"),
        pl.col("fraud_risk").round(6).cast(pl.String), pl.lit("|"),
        "band", pl.lit("|"), confirmed.cast(pl.Int8).cast(pl.String), pl.lit("|"),
        reasons.fill_null(""),
    )  # fmt: skip
    return scores.select("user_id", buckets(scores.get_column("user_id")), record.alias("record"))


# ---------------------------------------------------------------------------------------------
# Feed: timelines (fan-out on write) and the ranker's published per-viewer scores.
#
# A timeline is a sorted set per viewer: score = created_at in epoch microseconds (exact in a
# double until the year 2255), member ``created_us|post_id|author_id``: the author travels with
# the post so the trust policy needs no extra lookup, and the time too, because reading a
# thousand scores back (WITHSCORES) costs more than the rest of the read together (Redis formats
# each double, redis-py pairs and parses them). Trimmed to ``TIMELINE_CAP`` on every push.
# Ranker scores are published as a whole version, like user scores: per viewer a hash
# post_id -> raw score (plus the two prior fields, read whole with HGETALL: cheaper than naming
# a thousand fields), a hash author -> policy (``flagged`` | ``low_trust``) for the authors the
# trust policy acts on, the set of viewers (so dropping a version needs no SCAN), a meta hash
# written last, and one pointer that flips. ``FeedKeys(prefix)`` gives tests their own namespace.
# ---------------------------------------------------------------------------------------------

TIMELINE_CAP = 1000  # posts kept per timeline
FEED_WINDOW = 1000  # timeline entries a read ranks
FEED_PAGE = 50
MEMBER_SEP = "|"  # ids are UUIDs: never contain it
PRIOR_FRESH = "~fresh"  # score of a post newer than the version's as_of
PRIOR_STALE = "~stale"  # score of an older post the version did not score
FEED_META_FIELDS = ("version", "published_at", "as_of", "model_version", "viewers", "scores",
                    "demotion", "flagged_policy")  # fmt: skip


def timeline_member(created_us: int, post_id: str, author_id: str) -> str:
    return f"{created_us}{MEMBER_SEP}{post_id}{MEMBER_SEP}{author_id}"


def split_member(member: str) -> tuple[int, str, str]:
    """``(created_us, post_id, author_id)`` of a timeline member."""
    created, post_id, author_id = member.split(MEMBER_SEP, 2)
    return int(created), post_id, author_id


@dataclass(frozen=True, slots=True)
class FeedKeys:
    """Every feed key, under ``prefix`` (``PREFIX`` in production)."""

    prefix: str = PREFIX

    def timeline(self, user_id: str) -> str:
        return f"{self.prefix}:feed:tl:{user_id}"

    @property
    def current(self) -> str:  # -> version id
        return f"{self.prefix}:feed:current"

    @property
    def versions(self) -> str:  # sorted set: version id -> published_at (epoch s)
        return f"{self.prefix}:feed:versions"

    def meta(self, version: str) -> str:
        return f"{self.prefix}:feed:{version}:meta"

    def scores(self, version: str, viewer_id: str) -> str:
        return f"{self.prefix}:feed:{version}:s:{viewer_id}"

    def authors(self, version: str) -> str:
        return f"{self.prefix}:feed:{version}:authors"

    def viewers(self, version: str) -> str:
        return f"{self.prefix}:feed:{version}:viewers"


def epoch_us(at: datetime) -> int:
    """A UTC instant as integer microseconds since the epoch (the timeline score)."""
    delta = at.astimezone(UTC) - datetime(1970, 1, 1, tzinfo=UTC)
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds

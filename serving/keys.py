"""The online-store contract: every key, every record layout, shared by the publisher, the
decision path, the feed and both backends (Redis and SQLite store the same records).

Scores are published as a whole *version*: records in ``scores:{version}:{page}`` strings, the
version's reason dictionary ``scores:{version}:codes`` (``serving.codes``: a record's reasons
are codes into it, so a repeated sentence is stored once a version, not once a user), a
``meta`` hash per version (written last), the sorted set of versions, and one pointer
``scores:current`` that flips after the meta exists. A *page* is a packed string of the
``\n{user_id}|{record}`` lines of the users hashed to it; a version has about
``PAGE_USERS`` users per page (the count is in its manifest). One read is one GET of ~2 KB and
a ``bytes.find``; one publish is one SET per page, which Redis takes at memory speed where a
field per user costs it a hash insert each, and a Redis Cluster shards the pages by key.
Pages hash users by the last eight hex digits of their UUID (crc32 for other ids): cheap per
request, vectorised at publish time. Dropping a version is ``UNLINK`` of its pages, no ``SCAN``.
A reader caches a version's manifest and dictionary together, read once per version (the
same extra trip a flip already costs), so a decision stays one GET of the page.

Everything else is per request and short-lived: rate-limit counters (fixed windows, the window
index is in the key so a lost expiry cannot make a counter outlive its window) and the devices
and countries a user has been seen on, for novelty checks.

Redis Cluster: every key a decision or a feed read touches for one user carries that user's
hash tag ``{u<g>}``, ``g`` the user's hash modulo ``SLOT_GROUPS``: the page (a version has a
multiple of ``SLOT_GROUPS`` pages, so page ``p`` holds only users of group ``p % SLOT_GROUPS``),
a copy of the current-version pointer per group, the override, the novelty sets and the
per-user and per-(user, IP) counters. A decision is then one round trip to one node. Per-IP
counters are keyed by the IP alone (one count across every account behind it, which is what
the limit is for), so an action limited per IP also touches the IP's node, in the same trip.
"""

from __future__ import annotations

import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal

import polars as pl

from serving import codes

PREFIX = "vouch"
PAGE_USERS = 32  # users per page, on average (~2 KB with reason codes, ~5 KB without)
# Hash-tag groups: enough to spread over any cluster's nodes (16,384 slots), few enough that
# every version's page count can be a multiple and the flip writes one pointer per group.
SLOT_GROUPS = 1024
CURRENT = f"{PREFIX}:scores:current"  # -> version id (listing, pruning, the checks)
VERSIONS = f"{PREFIX}:scores:versions"  # sorted set: version id -> published_at (epoch s)


def pages_for(records: int) -> int:
    """How many pages a version of ``records`` users gets: about ``PAGE_USERS`` users each,
    rounded up to a multiple of ``SLOT_GROUPS`` (so a page's group is its user's group)."""
    pages = max(1, -(-records // PAGE_USERS))
    return -(-pages // SLOT_GROUPS) * SLOT_GROUPS


def user_hash(user_id: str) -> int:
    """The stable hash pages and tags are cut from: the UUID's last eight hex digits."""
    try:
        return int(user_id[-8:], 16)
    except ValueError:  # not a UUID: still a stable hash
        return zlib.crc32(user_id.encode())


def page(user_id: str, pages: int) -> int:
    """The page of one user id (the same number :func:`page_column` gives)."""
    return user_hash(user_id) % pages


def tag(group: int) -> str:
    """The hash tag of a group: Redis Cluster hashes only what is inside the braces."""
    return f"{{u{group}}}"


def user_tag(user_id: str) -> str:
    return tag(user_hash(user_id) % SLOT_GROUPS)


def current_key(group: int) -> str:
    """The group's copy of the current-version pointer, beside its users' pages."""
    return f"{PREFIX}:{tag(group)}:scores:current"


def page_column(user_ids: pl.Series, pages: int) -> pl.Series:
    """:func:`page` for a whole column, vectorised except for ids that are not hex-ended."""
    hexed = user_ids.str.slice(-8).str.to_integer(base=16, strict=False)
    if hexed.null_count():
        odd = hexed.is_null() & user_ids.is_not_null()
        fixed = [zlib.crc32(u.encode()) for u in user_ids.filter(odd).to_list()]
        hexed = hexed.scatter(odd.arg_true(), fixed)
    return (hexed % pages).cast(pl.Int64).alias("page")


def page_key(version: str, page_no: int) -> str:
    return f"{PREFIX}:{tag(page_no % SLOT_GROUPS)}:scores:{version}:{page_no}"


def page_keys(version: str, page_nos: pl.Series) -> pl.Expr:
    """:func:`page_key` of every page number in ``page_nos``, as one vectorised expression."""
    return pl.concat_str(
        pl.lit(f"{PREFIX}:{{u"),
        (page_nos % SLOT_GROUPS).cast(pl.String),
        pl.lit(f"}}:scores:{version}:"),
        page_nos.cast(pl.String),
    )


def meta_key(version: str) -> str:
    return f"{PREFIX}:scores:{version}:meta"


def codes_key(version: str) -> str:
    """The version's reason dictionary (``serving.codes``): read with the manifest, once per
    version and reader, so it needs no hash tag."""
    return f"{PREFIX}:scores:{version}:codes"


def find_record(page_text: bytes, user_id: str) -> bytes | None:
    """The record of ``user_id`` in a page, or ``None``."""
    needle = b"\n" + user_id.encode() + b"|"
    at = page_text.find(needle)
    if at < 0:
        return None
    start = at + len(needle)
    end = page_text.find(b"\n", start)
    return page_text[start:] if end < 0 else page_text[start:end]


def new_version(now: datetime | None = None) -> str:
    """Sortable and unique enough for one publisher per second: ``20261126T101500Z``.
    Microseconds keep two publishes in the same second apart."""
    return (now or datetime.now(UTC)).strftime("%Y%m%dT%H%M%S%fZ")


def rate_key(
    scope: str,
    subject: str,
    *,
    action: str,
    window_s: int,
    now_s: float,
    user_id: str | None = None,
) -> str:
    """Counter of ``action`` by ``subject`` (a user id, an IP, or both) in the current fixed
    window; under ``user_id``'s tag when given (per-user counters), untagged for an IP's."""
    where = f"{PREFIX}:{user_tag(user_id)}" if user_id is not None else PREFIX
    return f"{where}:rate:{scope}:{subject}:{action}:{window_s}:{int(now_s // window_s)}"


def seen_key(user_id: str, kind: str) -> str:
    """The set of ``kind`` (``device`` or ``country``) values the user was seen with."""
    return f"{PREFIX}:{user_tag(user_id)}:seen:{kind}:{user_id}"


def override_key(user_id: str) -> str:
    """The analyst's per-user override (``deny``): outside every score version, so it
    survives a publish; set and cleared by the review console's decisions."""
    return f"{PREFIX}:{user_tag(user_id)}:override:{user_id}"


OVERRIDES = ("deny",)  # what an override may say


CREDIT_SEP = "\t"  # starts the record's credit part; never inside a reason or a number


@dataclass(frozen=True, slots=True)
class Credit:
    """A user's published credit limit (``features.credit``): how much the platform lends them
    before a sale completes (early escrow release), in ``currency``, and why, in words."""

    limit: Decimal
    currency: str | None  # None: no limit (nothing to lend against yet)
    reasons: tuple[str, ...]

    @classmethod
    def decode(cls, text: str, book: Sequence[str] | None = None) -> Credit | None:
        limit, currency, reasons = text.split(CREDIT_SEP, 2)
        if not limit:
            return None
        return cls(
            limit=Decimal(limit), currency=currency or None, reasons=codes.said(reasons, book)
        )

    def encode(self) -> str:
        return CREDIT_SEP.join((f"{self.limit:f}", self.currency or "", ";".join(self.reasons)))


@dataclass(frozen=True, slots=True)
class ScoreRecord:
    """What the decision path knows of a user: the pipeline's ``user_scores`` row.

    Stored as one line of text, ``trust|fraud_risk|band|confirmed_fraud|token;token``: a
    third the size of JSON and built in one vectorised pass, which is what lets a million
    records publish in about a second. Each token is a code into the version's reason
    dictionary or a reason's own text (``serving.codes``); versions published before the
    dictionary have text only, and read with ``book=None``. Reasons come last, so a ``|``
    inside one is harmless. When the set carries credit limits, each line ends with
    ``\t{limit}\t{currency}\t{token;token}`` (:class:`Credit`, coded the same way): a tab
    starts it, so records published before it (no tab) still read, with ``credit`` None."""

    trust: float
    fraud_risk: float
    band: str
    confirmed_fraud: bool
    reasons: tuple[str, ...]
    credit: Credit | None = None

    @classmethod
    def decode(cls, raw: bytes | str, book: Sequence[str] | None = None) -> ScoreRecord:
        """A record of a version whose reason dictionary is ``book`` (``None``: text reasons)."""
        text = raw.decode() if isinstance(raw, bytes) else raw
        text, tab, credit = text.partition(CREDIT_SEP)
        trust, risk, band, confirmed, reasons = text.split("|", 4)
        return cls(
            trust=float(trust),
            fraud_risk=float(risk),
            band=band,
            confirmed_fraud=confirmed == "1",
            reasons=codes.said(reasons, book),
            credit=Credit.decode(credit, book) if tab else None,
        )

    def encode(self) -> str:
        said = ";".join(self.reasons)
        tail = CREDIT_SEP + self.credit.encode() if self.credit is not None else ""
        return (
            f"{self.trust:.6g}|{self.fraud_risk:.6g}|{self.band}|{int(self.confirmed_fraud)}|{said}"
            + tail
        )


@dataclass(frozen=True, slots=True)
class Manifest:
    """A published version: when, from what, how many records."""

    version: str
    published_at: datetime
    scored_at: datetime
    model_version: str
    snapshot: str
    records: int  # -1: the version was never completed
    pages: int = 1
    # Entries in the version's reason dictionary (``serving.codes``); None: a version whose
    # reasons are text (published before the dictionary), which readers read without one.
    reason_codes: int | None = None

    def encode(self) -> dict[str, str]:
        coded = {} if self.reason_codes is None else {"reason_codes": str(self.reason_codes)}
        return {
            "pages": str(self.pages),
            "version": self.version,
            "published_at": self.published_at.isoformat(),
            "scored_at": self.scored_at.isoformat(),
            "model_version": self.model_version,
            "snapshot": self.snapshot,
            "records": str(self.records),
        } | coded

    @classmethod
    def decode(cls, raw: dict[str, str]) -> Manifest:
        return cls(
            version=raw["version"],
            published_at=datetime.fromisoformat(raw["published_at"]),
            scored_at=datetime.fromisoformat(raw["scored_at"]),
            model_version=raw["model_version"],
            snapshot=raw["snapshot"],
            records=int(raw["records"]),
            pages=int(raw.get("pages", 1)),
            reason_codes=int(raw["reason_codes"]) if "reason_codes" in raw else None,
        )


def record_expr(scores: pl.DataFrame) -> pl.Expr:
    """The :class:`ScoreRecord` text of each ``user_scores`` row, as a polars expression
    (with the :class:`Credit` part when the frame has ``credit_limit``; a row whose limit is
    null gets none). Reason columns are lists of text, joined here, or already the records'
    token strings (``serving.codes.code_reasons``)."""

    def tokens(name: str) -> pl.Expr:
        joined = pl.col(name)
        if isinstance(scores.schema[name], pl.List):
            joined = joined.list.join(codes.SEP)
        return joined.fill_null("")

    confirmed = (
        pl.col("confirmed_fraud").fill_null(False)
        if "confirmed_fraud" in scores.columns
        else pl.lit(False)
    )
    record = pl.concat_str(
        pl.col("trust").round(6).cast(pl.String),
        pl.lit("|"),
        pl.col("fraud_risk").round(6).cast(pl.String),
        pl.lit("|"),
        "band",
        pl.lit("|"),
        confirmed.cast(pl.Int8).cast(pl.String),
        pl.lit("|"),
        tokens("reasons"),
    )
    if "credit_limit" not in scores.columns:
        return record
    credit = pl.concat_str(
        pl.lit(CREDIT_SEP),
        pl.col("credit_limit").cast(pl.String),
        pl.lit(CREDIT_SEP),
        pl.col("credit_currency").fill_null(""),
        pl.lit(CREDIT_SEP),
        tokens("credit_reasons"),
    )
    return pl.concat_str(
        record, pl.when(pl.col("credit_limit").is_not_null()).then(credit).otherwise(pl.lit(""))
    )


def encode_scores(scores: pl.DataFrame) -> pl.DataFrame:
    """``user_scores`` -> ``user_id, record`` (:class:`ScoreRecord` text), vectorised."""
    return scores.select("user_id", record_expr(scores).alias("record"))


# ---------------------------------------------------------------------------------------------
# Feed: timelines (fan-out on write) and the ranker's published per-viewer scores.
#
# A timeline is a sorted set per viewer: score = created_at in epoch microseconds (exact in a
# double until the year 2255), member ``created_us|post_id|author_id``: the author travels with
# the post so the trust policy needs no extra lookup, and the time too, because reading a
# thousand scores back (WITHSCORES) costs more than the rest of the read together (Redis formats
# each double, redis-py pairs and parses them). Trimmed to ``TIMELINE_CAP`` on every push.
# Ranker scores are published as a whole version, like user scores: per viewer one JSON object
# post_id -> raw score plus the two prior fields (one GET and one orjson parse in C; a hash of a
# thousand fields costs several times more to read back in redis-py), a hash author -> policy
# (``flagged`` | ``low_trust``) for the authors the trust policy acts on, the set of viewers (so
# dropping a version needs no SCAN), a meta hash written last, and one pointer that flips.
# ``FeedKeys(prefix)`` gives tests their own namespace. A viewer's timeline, scores and copy of
# the pointer share the viewer's hash tag: a read is one node's work on a Redis Cluster.
# ---------------------------------------------------------------------------------------------

TIMELINE_CAP = 1000  # posts kept per timeline
FEED_WINDOW = 1000  # timeline entries a read ranks
FEED_PAGE = 50
MEMBER_SEP = "|"  # ids are UUIDs: never contain it
PRIOR_FRESH = "~fresh"  # score of a post newer than the version's as_of
PRIOR_STALE = "~stale"  # score of an older post the version did not score
FEED_META_FIELDS = (
    "version",
    "published_at",
    "as_of",
    "model_version",
    "viewers",
    "scores",
    "demotion",
    "flagged_policy",
)


def timeline_member(created_us: int, post_id: str, *, author_id: str) -> str:
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
        return f"{self.prefix}:{user_tag(user_id)}:feed:tl:{user_id}"

    @property
    def current(self) -> str:  # -> version id (listing, pruning)
        return f"{self.prefix}:feed:current"

    def current_for(self, group: int) -> str:
        """The group's copy of the pointer, read with its viewers' timelines and scores."""
        return f"{self.prefix}:{tag(group)}:feed:current"

    def viewer_current(self, viewer_id: str) -> str:
        return self.current_for(user_hash(viewer_id) % SLOT_GROUPS)

    @property
    def versions(self) -> str:  # sorted set: version id -> published_at (epoch s)
        return f"{self.prefix}:feed:versions"

    def meta(self, version: str) -> str:
        return f"{self.prefix}:feed:{version}:meta"

    def scores(self, version: str, viewer_id: str) -> str:  # JSON object: post -> score
        return f"{self.prefix}:{user_tag(viewer_id)}:feed:{version}:s:{viewer_id}"

    def authors(self, version: str) -> str:
        return f"{self.prefix}:feed:{version}:authors"

    def viewers(self, version: str) -> str:
        return f"{self.prefix}:feed:{version}:viewers"


def epoch_us(at: datetime) -> int:
    """A UTC instant as integer microseconds since the epoch (the timeline score)."""
    delta = at.astimezone(UTC) - datetime(1970, 1, 1, tzinfo=UTC)
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds

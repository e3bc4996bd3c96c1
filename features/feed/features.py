"""Features of (viewer, post) candidates at a request time, each from events strictly before it.

Candidates are rows (viewer_id, post_id, request_at). Every feature is an as-of lookup, so a
candidate at t sees exactly the lake as it stood at t, whatever happened later: that is what makes
the same code usable for training sets and for live ranking. Column meanings: ``schema.py``.

- Author trust comes from a given ``(user_id, snapshot_at, trust)`` frame, the latest snapshot
  with ``snapshot_at <= request_at`` (a snapshot is built from events before its snapshot_at).
- Affinities add each past engagement's kind weight (view < like < comment < share), halved
  every ``half_life``: recent and strong engagement counts most.
- A post's early engagement counts likes, comments and shares in its first hour, and only those
  that happened before the request.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import timedelta
from typing import TypedDict

import polars as pl

from features.feed.asof import asof_decayed, asof_sums
from features.feed.inputs import ENGAGEMENT_KINDS, FeedInputs
from features.feed.schema import FEATURES
from features.platform_graph.neighbourhood import flagged_as_of

CANDIDATE_SCHEMA = {
    "viewer_id": pl.String,
    "post_id": pl.String,
    "request_at": pl.Datetime("us", "UTC"),
}


class _Decay(TypedDict):
    """The keyword arguments every decayed affinity here shares."""

    at: str
    time: str
    value: str
    half_life: timedelta


@dataclass(frozen=True)
class FeedConfig:
    half_life: timedelta = timedelta(days=7)
    kind_weights: dict[str, float] = field(
        default_factory=lambda: {"view": 0.2, "like": 1.0, "comment": 2.0, "share": 3.0}
    )
    first_hour: timedelta = timedelta(hours=1)


def id_enum(*columns: pl.Series) -> pl.Enum:
    """An Enum of the distinct texts of ``columns`` (String or Categorical, nulls left out).
    Each column is made distinct before they meet: millions of engagements cost the texts of
    their users and posts, not a copy of every row's."""
    texts = pl.concat([c.unique().cast(pl.String) for c in columns]).drop_nulls().unique()
    return pl.Enum(texts)


def _encode(cand: pl.DataFrame, inputs: FeedInputs) -> tuple[pl.DataFrame, FeedInputs]:
    """Dense UInt32 codes for user (``_v``, ``_a``, ...) and post (``_p``) ids: every group-by,
    sort and as-of join below then runs on integers, ~5x faster than on UUID strings."""
    users = id_enum(
        cand.get_column("viewer_id"),
        inputs.posts.get_column("author_id"),
        inputs.engagements.get_column("viewer_id"),
        inputs.engagements.get_column("author_id"),
        inputs.follows.get_column("viewer_id"),
        inputs.follows.get_column("author_id"),
        inputs.trust_links.get_column("src"),
        inputs.trust_links.get_column("dst"),
        inputs.flags.get_column("user_id"),
    )
    posts = id_enum(cand.get_column("post_id"), inputs.posts.get_column("post_id"))

    def user(name: str) -> pl.Expr:
        return pl.col(name).cast(users, strict=False).to_physical()

    def post(name: str) -> pl.Expr:
        return pl.col(name).cast(posts, strict=False).to_physical()

    coded = replace(
        inputs,
        posts=inputs.posts.with_columns(_p=post("post_id"), _a=user("author_id")),
        engagements=inputs.engagements.with_columns(
            _v=user("viewer_id"), _a=user("author_id"), _p=post("post_id")
        ),
        follows=inputs.follows.with_columns(_v=user("viewer_id"), _a=user("author_id")),
        trust_links=inputs.trust_links.with_columns(_s=user("src"), _d=user("dst")),
        flags=inputs.flags.with_columns(user_id=user("user_id")),
    )
    return cand.with_columns(_v=user("viewer_id"), _p=post("post_id")), coded


def _post_side(cand: pl.DataFrame, inputs: FeedInputs, *, config: FeedConfig) -> pl.DataFrame:
    # The columns a candidate takes from its post (not, say, its visibility).
    posts = inputs.posts.select(
        "author_id",
        pl.col("created_at").alias("_created_at"),
        "topic",
        "has_link",
        "has_media",
        "text_length",
        "_p",
        "_a",
    )
    cand = cand.join(posts, on="_p", how="left").with_columns(
        # A post created at or after the request did not exist for it.
        pl.when(pl.col("_created_at") < pl.col("request_at")).then(pl.col(c)).alias(c)
        for c in ("author_id", "_a", "topic", "has_link", "has_media", "text_length", "_created_at")
    )
    cand = cand.with_columns(
        post_age_s=(pl.col("request_at") - pl.col("_created_at")).dt.total_microseconds() / 1e6,
        _first_hour_end=pl.min_horizontal(
            pl.col("_created_at") + config.first_hour, pl.col("request_at")
        ),
    )
    counts = [f"post_{k}s" for k in ENGAGEMENT_KINDS]
    e = inputs.engagements.select(
        "_p",
        "engaged_at",
        *[
            (pl.col("engagement") == k).cast(pl.UInt32).alias(c)
            for k, c in zip(ENGAGEMENT_KINDS, counts, strict=True)
        ],
    )
    cand = asof_sums(cand, e, by=["_p"], at="request_at", time="engaged_at", sums=counts)
    early = e.select(
        "_p",
        "engaged_at",
        post_first_hour_views=pl.col("post_views"),
        post_first_hour_engagements=pl.sum_horizontal("post_likes", "post_comments", "post_shares"),
    )
    cand = asof_sums(
        cand.with_columns(pl.col("_first_hour_end").fill_null(pl.col("request_at"))),
        early,
        by=["_p"],
        at="_first_hour_end",
        time="engaged_at",
        sums=["post_first_hour_views", "post_first_hour_engagements"],
    )
    done = pl.sum_horizontal("post_likes", "post_comments", "post_shares")
    return cand.with_columns(
        post_engagement_rate=done.cast(pl.Float64) / (pl.col("post_views") + 1)
    ).drop("_first_hour_end", "_created_at")


def _affinities(cand: pl.DataFrame, inputs: FeedInputs, *, config: FeedConfig) -> pl.DataFrame:
    names = pl.Enum(inputs.posts.get_column("topic").drop_nulls().unique().sort())
    topics = inputs.posts.select(
        "_p", _topic=pl.col("topic").cast(names, strict=False).to_physical()
    )
    weights = inputs.engagements.join(topics, on="_p", how="left").select(
        "_v",
        "_a",
        "_topic",
        "engaged_at",
        w=pl.col("engagement").replace_strict(config.kind_weights, return_dtype=pl.Float64),
        viewer_author_engagements=pl.lit(1, pl.UInt32),
    )
    cand = cand.with_columns(_topic=pl.col("topic").cast(names, strict=False).to_physical())
    decay = _Decay(at="request_at", time="engaged_at", value="w", half_life=config.half_life)
    cand = asof_decayed(cand, weights, by=["_v", "_a"], name="viewer_author_affinity", **decay)
    cand = asof_sums(
        cand,
        weights,
        by=["_v", "_a"],
        at="request_at",
        time="engaged_at",
        sums=["viewer_author_engagements"],
    )
    topical = weights.drop_nulls("_topic")
    cand = asof_decayed(cand, topical, by=["_v", "_topic"], name="viewer_topic_affinity", **decay)
    cand = asof_decayed(cand, topical, by=["_v"], name="_viewer_total", **decay)
    share = pl.col("viewer_topic_affinity") / pl.col("_viewer_total")
    return cand.with_columns(
        viewer_topic_share=pl.when(
            (pl.col("_viewer_total") > 0) & pl.col("topic").is_not_null()
        ).then(share)
    ).drop("_viewer_total", "_topic")


def _links(cand: pl.DataFrame, inputs: FeedInputs) -> pl.DataFrame:
    follows = inputs.follows.select("_v", "_a", "followed_at")
    cand = cand.join(follows, on=["_v", "_a"], how="left").with_columns(
        viewer_follows_author=(pl.col("followed_at") < pl.col("request_at")).fill_null(False)
    )
    followers = follows.select("_a", "followed_at", author_followers=pl.lit(1, pl.UInt32))
    cand = asof_sums(
        cand.drop("followed_at"),
        followers,
        by=["_a"],
        at="request_at",
        time="followed_at",
        sums=["author_followers"],
    )
    for name, src, dst in (
        ("viewer_trusts_author", "_v", "_a"),
        ("author_trusts_viewer", "_a", "_v"),
    ):
        links = inputs.trust_links.select(
            pl.col("_s").alias(src),
            pl.col("_d").alias(dst),
            "changed_at",
            pl.col("weight").alias(name),
        )
        cand = _asof_last(cand, links, by=[src, dst], time="changed_at", value=name, default=0.0)
    return cand


def _asof_last(
    cand: pl.DataFrame,
    events: pl.DataFrame,
    *,
    by: list[str],
    time: str,
    value: str,
    default: float | None,
    strict: bool = True,
) -> pl.DataFrame:
    """The group's latest ``value`` before request_at (``strict``) or at it, else ``default``."""
    right = events.select(*by, pl.col(time).alias("__t"), value).sort("__t")
    slim = cand.select(pl.int_range(pl.len(), dtype=pl.UInt32).alias("__row"), *by, "request_at")
    found = (
        slim.sort("request_at")
        .join_asof(
            right,
            left_on="request_at",
            right_on="__t",
            by=by,
            strategy="backward",
            allow_exact_matches=not strict,
            check_sortedness=False,
        )
        .sort("__row")
        .get_column(value)
    )
    out = cand.with_columns(found)
    return out if default is None else out.with_columns(pl.col(value).fill_null(default))


def feed_features(
    candidates: pl.DataFrame,
    inputs: FeedInputs,
    *,
    trust: pl.DataFrame | None = None,
    config: FeedConfig | None = None,
) -> pl.DataFrame:
    """``candidates`` (viewer_id, post_id, request_at, any extra columns) with every feature
    appended, rows in the same order. ``trust``: (user_id, snapshot_at, trust) or None."""
    config = config or FeedConfig()
    cand = candidates.cast(CANDIDATE_SCHEMA)  # type: ignore[arg-type]
    cand, coded = _encode(cand, inputs)
    cand = _post_side(cand, coded, config=config)
    cand = _affinities(cand, coded, config=config)
    cand = _links(cand, coded)
    cand = flagged_as_of(cand, coded.flags, user="_a", at="request_at", name="author_flagged")
    if trust is None:
        cand = cand.with_columns(author_trust=pl.lit(None, pl.Float64))
    else:
        scores = trust.select(
            author_id=pl.col("user_id").cast(pl.String),
            snapshot_at=pl.col("snapshot_at").cast(pl.Datetime("us", "UTC")),
            author_trust=pl.col("trust").cast(pl.Float64),
        )
        cand = _asof_last(
            cand,
            scores,
            by=["author_id"],
            time="snapshot_at",
            value="author_trust",
            default=None,
            strict=False,
        )
    named = [f.name for f in FEATURES]
    return cand.drop("_v", "_a", "_p").select(pl.exclude(named), *named)

"""Point-in-time history signals for feed candidates, beyond ``feed_features``' columns: the rest
of what the feed ranker reads.

They sharpen the two halves of relevance (does the viewer care about this topic, is this post
any good) and make engagement evidence trust-aware:

- Engagement as evidence of quality is weighted by the engaging user's trust (latest snapshot
  at or before the engagement). Rings and spam farms like and share each other's posts, so raw
  engagement rates rank their posts up (on the simulated platform the raw author rate is
  uncorrelated with true quality); weighted by trust their votes count for little.
- The author's trusted track record (acts per view over all earlier posts), so a fresh post of
  a good author is not ranked as if nothing were known; the post's own trusted rate is shrunk
  towards it, since a few views say little.
- The viewer's taste: acts (likes, comments, shares), the topics of the viewer's own posts and
  what the viewer was shown are three noisy samples of it. Views alone mostly say what the feed
  chose, so they only set the prior.
- Dwell time: every view carries one, not just the few that end in a like, so it is the densest
  evidence of taste there is. Per topic it is taken relative to the viewer's own typical dwell
  (some people read slowly everywhere); per post and author, trust-weighted and relative to the
  platform's, as a quality signal. Log scale: dwell times are heavy-tailed.

Every sum uses events strictly before ``request_at`` and trust snapshots at or before it, like
``feed_features``. They take what ``feed_features`` made of the candidates and the same
``FeedInputs`` (dwell times included): nothing here reads the lake.
"""

from __future__ import annotations

import polars as pl

from features.feed.asof import asof_sums
from features.feed.features import id_enum
from features.feed.inputs import FeedInputs

HISTORY_FEATURES = (
    "viewer_trust",
    "author_trusted_views",
    "author_trusted_rate",
    "post_trusted_rate",
    "viewer_topic_views",
    "viewer_topic_acts",
    "viewer_topic_act_rate",
    "viewer_topic_posts",
    "viewer_topic_interest",
    "expected_relevance",
    "viewer_topic_dwell",
    "author_dwell",
    "post_dwell",
)
DWELL_FEATURES = ("viewer_topic_dwell", "author_dwell", "post_dwell")

# Pseudo-counts of the shrinkage, in views: an author's rate starts from the platform's, a
# post's from its author's, a viewer's topic rate from the viewer's overall rate.
AUTHOR_PRIOR = 20.0
POST_PRIOR = 10.0
VIEWER_PRIOR = 5.0
# Taste: an own post counts like one act; exposure is a prior worth two acts.
DWELL_PRIOR = 3.0  # views
OWN_POST_WEIGHT = 1.0
EXPOSURE_PRIOR = 2.0
# The weight of an engagement by a user no snapshot knows yet: the trust engine's value for a
# node without edges.
UNKNOWN_TRUST = 0.375
UTC_US = pl.Datetime("us", "UTC")


def _snapshots(trust: pl.DataFrame, *, user: str, value: str, dtype: pl.DataType) -> pl.DataFrame:
    return trust.select(
        pl.col("user_id").cast(pl.String).cast(dtype).alias(user),
        pl.col("snapshot_at").cast(UTC_US).alias("_snap"),
        pl.col("trust").cast(pl.Float64).alias(value),
    ).sort("_snap")


def _trust_as_of(
    frame: pl.DataFrame, trust: pl.DataFrame | None, *, user: str, at: str, name: str
) -> pl.DataFrame:
    """``frame`` plus ``name``: ``user``'s trust from the latest snapshot at or before ``at``."""
    if trust is None:
        return frame.with_columns(pl.lit(None, pl.Float64).alias(name))
    found = (
        frame.select(pl.int_range(pl.len(), dtype=pl.UInt32).alias("_row"), user, at)
        .sort(at)
        .join_asof(
            # the users' ids in the frame's type (String, or Categorical as load_inputs reads)
            _snapshots(trust, user=user, value=name, dtype=frame.schema[user]),
            left_on=at,
            right_on="_snap",
            by=user,
            check_sortedness=False,  # both sides sorted on time; polars cannot check per group
        )
        .sort("_row")
        .get_column(name)
    )
    return frame.with_columns(found)


def history_features(
    frame: pl.DataFrame, inputs: FeedInputs, *, trust: pl.DataFrame | None = None
) -> pl.DataFrame:
    """``frame`` (candidates with viewer_id, post_id, author_id, topic, request_at, as
    ``feed_features`` makes them) plus ``HISTORY_FEATURES``, rows in the same order.

    ``trust``: (user_id, snapshot_at, trust) or None (every engagement then weighs 1 and
    ``viewer_trust`` is null). Without ``inputs.dwell`` the dwell features are null."""
    columns = frame.columns
    dwell = inputs.dwell
    # The posts' ids in the engagements' type (a Categorical, as load_inputs reads them).
    posts = inputs.posts.select(
        pl.col("post_id").cast(inputs.engagements.schema["post_id"]), "topic"
    )
    events = inputs.engagements.join(posts, on="post_id", how="left").select(
        "event_id", "viewer_id", "author_id", "post_id", "topic", "engaged_at", "grade"
    )
    if dwell is None:
        events = events.with_columns(_ld=pl.lit(None, pl.Float64))
    else:
        log_dwell = pl.col("dwell_ms").cast(pl.Float64).clip(1.0).log().alias("_ld")
        events = events.join(dwell.select("event_id", log_dwell), on="event_id", how="left")
    events = _trust_as_of(events, trust, user="viewer_id", at="engaged_at", name="_w")
    events = events.with_columns(pl.col("_w").fill_null(1.0 if trust is None else UNKNOWN_TRUST))
    frame = _trust_as_of(frame, trust, user="viewer_id", at="request_at", name="viewer_trust")
    keys = _derive(_running_sums(frame, events, inputs.posts))
    if dwell is None:  # no evidence is not "average": leave them unknown
        keys = keys.with_columns(pl.lit(None, pl.Float64).alias(c) for c in DWELL_FEATURES)
    return keys.select(*columns, *HISTORY_FEATURES)


def _running_sums(frame: pl.DataFrame, events: pl.DataFrame, posts: pl.DataFrame) -> pl.DataFrame:
    """``frame`` plus the running sums behind every feature, as of each row's request_at."""
    users = id_enum(*[d.get_column(c) for d in (frame, events) for c in ("viewer_id", "author_id")])
    post_ids = id_enum(frame.get_column("post_id"), events.get_column("post_id"))
    topics = pl.Enum(posts.get_column("topic").drop_nulls().unique().sort())

    def code(name: str, dtype: pl.Enum) -> pl.Expr:
        return pl.col(name).cast(dtype, strict=False).to_physical()

    view, act, timed = pl.col("grade") == 0, pl.col("grade") > 0, pl.col("_ld").is_not_null()
    w = pl.col("_w")
    coded = events.select(
        _v=code("viewer_id", users),
        _a=code("author_id", users),
        _p=code("post_id", post_ids),
        _t=code("topic", topics),
        _all=pl.lit(0, pl.UInt32),
        _at="engaged_at",
        _wv=pl.when(view).then(w).otherwise(0.0),
        _wa=pl.when(act).then(w).otherwise(0.0),
        _nv=view.cast(pl.UInt32),
        _na=act.cast(pl.UInt32),
        _nd=timed.cast(pl.UInt32),
        _ld=pl.col("_ld").fill_null(0.0),
        _wd=pl.when(timed).then(w).otherwise(0.0),
        _wld=(w * pl.col("_ld")).fill_null(0.0),
    )
    own = posts.select(
        _v=code("author_id", users),
        _t=code("topic", topics),
        _at="created_at",
        _np=pl.lit(1, pl.UInt32),
    )
    keys = frame.with_columns(
        _v=code("viewer_id", users),
        _a=code("author_id", users),
        _p=code("post_id", post_ids),
        _t=code("topic", topics),
        _all=pl.lit(0, pl.UInt32),
        _n_topics=pl.lit(max(len(topics.categories), 1), pl.Float64),
    )
    trusted = ["_wv", "_wa", "_wd", "_wld"]
    counted = ["_nv", "_na", "_nd", "_ld"]
    for source, by, sums, prefix in (
        (coded, ["_all"], trusted, "_plat"),
        (coded, ["_a"], trusted, "_auth"),
        (coded, ["_p"], trusted, "_post"),
        (coded, ["_v"], counted, "_view"),
        (coded, ["_v", "_t"], counted, "_vt"),
        (own, ["_v"], ["_np"], "_view"),
        (own, ["_v", "_t"], ["_np"], "_vt"),
    ):
        names = [f"{prefix}{s}" for s in sums]
        renamed = [pl.col(s).alias(n) for s, n in zip(sums, names, strict=True)]
        part = source.select(*by, "_at", *renamed)
        keys = asof_sums(keys, part, by=by, at="request_at", time="_at", sums=names)
    return keys


def _derive(keys: pl.DataFrame) -> pl.DataFrame:
    col = pl.col

    def shrunk(total: str, count: str, prior: pl.Expr, weight: float) -> pl.Expr:
        return (col(total) + weight * prior) / (col(count) + weight)

    platform = col("_plat_wa") / pl.max_horizontal(col("_plat_wv"), 1e-9)
    platform_dwell = col("_plat_wld") / pl.max_horizontal(col("_plat_wd"), 1e-9)
    # The viewer's overall act rate, shrunk towards the platform's by one pseudo-act.
    viewer_rate = (col("_view_na") + 1.0) / (col("_view_nv") + 1.0 / platform.clip(1e-6))
    viewer_dwell = shrunk("_view_ld", "_view_nd", platform_dwell, DWELL_PRIOR)
    exposure = (col("_vt_nv") + 1.0 / col("_n_topics")) / (col("_view_nv") + 1.0)
    author_dwell = shrunk("_auth_wld", "_auth_wd", platform_dwell, AUTHOR_PRIOR)
    return (
        keys.with_columns(
            author_trusted_views=col("_auth_wv"),
            author_trusted_rate=shrunk("_auth_wa", "_auth_wv", platform, AUTHOR_PRIOR),
            author_dwell=author_dwell - platform_dwell,
            post_dwell=shrunk("_post_wld", "_post_wd", author_dwell, POST_PRIOR) - platform_dwell,
            viewer_topic_views=col("_vt_nv"),
            viewer_topic_acts=col("_vt_na"),
            viewer_topic_posts=col("_vt_np"),
            viewer_topic_act_rate=shrunk("_vt_na", "_vt_nv", viewer_rate, VIEWER_PRIOR),
            # Relative to the viewer's own typical dwell: some people read slowly everywhere.
            viewer_topic_dwell=shrunk("_vt_ld", "_vt_nd", viewer_dwell, DWELL_PRIOR) - viewer_dwell,
            viewer_topic_interest=(
                col("_vt_na") + OWN_POST_WEIGHT * col("_vt_np") + EXPOSURE_PRIOR * exposure
            )
            / (col("_view_na") + OWN_POST_WEIGHT * col("_view_np") + EXPOSURE_PRIOR),
        )
        .with_columns(
            post_trusted_rate=shrunk("_post_wa", "_post_wv", col("author_trusted_rate"), POST_PRIOR)
        )
        .with_columns(expected_relevance=col("viewer_topic_interest") * col("post_trusted_rate"))
    )

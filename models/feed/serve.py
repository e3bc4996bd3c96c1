"""What the feed ranker publishes for serving: per viewer, raw scores of recent posts by the
authors they follow, the viewer's priors for posts it did not score, and the authors the trust
policy acts on. ``serving.feed`` combines them per request; it cannot run the model itself.

One read of the lake as of the snapshot time ``at`` (``features.feed.inputs.load_inputs``) gives
everything: the candidates (what fan-out on write puts in a timeline, ``pushed_posts``), their
features, computed exactly like the ranker's training rows (``feed_features`` then
``history_features``), and the flagged authors. So a published score is what
``FeedRanker.predict_raw`` would have said of that candidate at ``at``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import polars as pl

from features.feed.features import feed_features
from features.feed.history import history_features
from features.feed.inputs import FeedInputs, load_inputs, pushed_posts
from features.lake import EventSource, utc
from models.feed.ranker import FeedRanker

PER_VIEWER = 1000  # candidates scored per viewer: the newest, as many as a feed read ranks
FRESH_WINDOW = timedelta(days=1)  # the posts whose median score is the viewer's fresh prior


@dataclass(frozen=True)
class FeedPublication:
    """Everything one feed version holds (frames in ``serving.feed.base``'s schemas)."""

    scores: pl.DataFrame  # viewer_id, post_id, score
    priors: pl.DataFrame  # viewer_id, fresh, stale
    authors: pl.DataFrame  # author_id, policy ("flagged" | "low_trust")
    as_of: datetime
    demotion: float  # score shift of a demoted author: log(low_trust_factor) / sigmoid_scale
    flagged_policy: str  # "remove" | "demote" ("keep" publishes no flagged authors)


def score_candidates(
    ranker: FeedRanker,
    inputs: FeedInputs,
    *,
    trust: pl.DataFrame | None,
    days: int = 3,
    per_viewer: int = PER_VIEWER,
    viewers: pl.Series | None = None,
) -> pl.DataFrame:
    """``viewer_id, post_id, author_id, created_at, score``: the raw ranker score (before the
    trust policy) of each viewer's newest ``per_viewer`` followed posts of the last ``days``
    before the inputs' cut-off, with features as of that cut-off."""
    if inputs.before is None:
        raise ValueError("scoring needs inputs with a cut-off (load_inputs)")
    at = inputs.before
    cands = pushed_posts(inputs.posts, inputs.follows, since=at - timedelta(days=days))
    if viewers is not None:
        cands = cands.filter(pl.col("viewer_id").is_in(viewers.implode()))
    cands = cands.filter(pl.int_range(pl.len()).over("viewer_id") < per_viewer)
    if cands.is_empty():
        return cands.with_columns(score=pl.lit(None, pl.Float64))
    frame = feed_features(
        cands.select("viewer_id", "post_id", request_at=pl.lit(at, pl.Datetime("us", "UTC"))),
        inputs,
        trust=trust,
    )
    frame = history_features(frame, inputs, trust=trust)
    return cands.with_columns(score=pl.Series(ranker.predict_raw(frame), dtype=pl.Float64))


def viewer_priors(scored: pl.DataFrame, *, at: datetime) -> pl.DataFrame:
    """``viewer_id, fresh, stale``: the median score of the viewer's candidates from the last
    ``FRESH_WINDOW`` before ``at`` (of all of them if none is that recent), and their lowest."""
    recent = pl.col("created_at") >= utc(at) - FRESH_WINDOW
    return (
        scored.group_by("viewer_id")
        .agg(
            fresh=pl.col("score").filter(recent).median().fill_null(pl.col("score").median()),
            stale=pl.col("score").min(),
        )
        .sort("viewer_id")
    )


def author_policy(
    user_scores: pl.DataFrame, *, flagged: set[str], min_trust: float, keep_flagged: bool = False
) -> pl.DataFrame:
    """``author_id, policy``: ``flagged`` users (confirmed fraud or banned) and users whose
    scored trust is below ``min_trust`` (``low_trust``). Unscored users are neither: unknown is
    not low, as in the ranker."""
    low = user_scores.filter(pl.col("trust") < min_trust).select(
        "user_id", policy=pl.lit("low_trust")
    )
    marked = pl.DataFrame(
        {"user_id": sorted(flagged), "policy": "flagged"},
        schema={"user_id": pl.String, "policy": pl.String},
    )
    parts = (
        [low]
        if keep_flagged
        else [low.filter(~pl.col("user_id").is_in(marked["user_id"].implode())), marked]
    )
    return pl.concat(parts).rename({"user_id": "author_id"}).sort("policy", "author_id")


def publication(
    ranker: FeedRanker,
    source: EventSource,
    *,
    at: datetime,
    trust: pl.DataFrame | None,
    user_scores: pl.DataFrame,
    days: int = 3,
    viewers: pl.Series | None = None,
) -> FeedPublication:
    """One feed version as of ``at``: scores, priors and author policy, with the ranker's own
    policy parameters so the online read demotes exactly as ``FeedRanker.predict`` would."""
    inputs = load_inputs(source, before=at)
    scored = score_candidates(ranker, inputs, trust=trust, days=days, viewers=viewers)
    authors = author_policy(
        user_scores,
        flagged=inputs.flagged(),
        min_trust=float(ranker.min_trust),
        keep_flagged=ranker.flagged == "keep",
    )
    return FeedPublication(
        scores=scored.select("viewer_id", "post_id", "score"),
        priors=viewer_priors(scored, at=at),
        authors=authors,
        as_of=utc(at),
        demotion=ranker.demotion,
        flagged_policy="demote" if ranker.flagged == "demote" else "remove",
    )

"""Feed assets, daily partitions by snapshot day D: timelines filled from the lake, and the feed
ranker's per-viewer scores as of D published to the online store (``serving.feed``).

In production the core API fans each new post out to its author's followers as it is written;
``feed_timelines`` is the embedded stand-in, replaying the posts of the ``FEED_DAYS`` before D
from the lake (idempotent: a post already in a timeline stays once). ``feed_scores`` scores the
same candidates with the champion ranker and publishes them as one version.
No ``from __future__ import annotations`` here: Dagster inspects the context annotation.
"""

from datetime import timedelta

from dagster import (
    AssetCheckResult,
    AssetCheckSeverity,
    AssetCheckSpec,
    AssetExecutionContext,
    MaterializeResult,
    asset,
)

from features.feed.inputs import followed_posts
from features.platform_graph.store import snapshot_time
from models.feed.serve import publication
from models.tracking import champion_version, load_model
from pipelines.assets.features import trust_scores
from pipelines.assets.models import FEED_MODEL, feed_ranker, user_scores_asset
from pipelines.partitions import AFTER_LANDING, SNAPSHOT_DAYS, partition_day
from pipelines.resources import StorageParam
from serving.feed import publish_feed
from serving.feed.timelines import replay

FEED_DAYS = 3  # posts older than this are neither fanned out nor scored


@asset(
    partitions_def=SNAPSHOT_DAYS,
    deps=[AFTER_LANDING],
    group_name="serving",
    kinds={"redis", "sqlite"},
)
def feed_timelines(context: AssetExecutionContext, storage: StorageParam) -> MaterializeResult:
    """Posts of the FEED_DAYS before D fanned out to their authors' followers' timelines."""
    # The embedded stand-in for the core API's fan-out on write.
    at = snapshot_time(partition_day(context))
    pushed = followed_posts(
        storage.lake.events_dir, since=at - timedelta(days=FEED_DAYS), before=at
    )
    replay(storage.online_feed(), pushed)
    return MaterializeResult(
        metadata={
            "entries": pushed.height,
            "posts": pushed["post_id"].n_unique(),
            "timelines": pushed["viewer_id"].n_unique(),
        }
    )


@asset(
    partitions_def=SNAPSHOT_DAYS,
    deps=[feed_ranker, user_scores_asset, trust_scores],
    group_name="serving",
    kinds={"lightgbm", "redis", "sqlite"},
    check_specs=[
        AssetCheckSpec(
            "serves_what_was_scored",
            asset="feed_scores",
            description="the feed store's current version is this one: its scores, viewers "
            "and a champion model version",
        )
    ],
)
def feed_scores(context: AssetExecutionContext, storage: StorageParam):
    """The champion ranker's scores of each viewer's recent followed posts, published."""
    # Raw scores of the followed posts of the FEED_DAYS before D (point-in-time features as of
    # D), the viewers' priors and the authors the trust policy removes or demotes, published to
    # the online store as one version.
    day = partition_day(context)
    ranker = load_model(storage.tracker, FEED_MODEL)
    done = publication(
        ranker,
        storage.lake.events_dir,
        at=snapshot_time(day),
        trust=storage.features.read_until("trust_scores", day),
        user_scores=storage.features.read("user_scores", day),
        days=FEED_DAYS,
    )
    version = champion_version(storage.tracker, FEED_MODEL) or "unknown"
    manifest = publish_feed(
        storage.online_feed(),
        scores=done.scores,
        priors=done.priors,
        authors=done.authors,
        as_of=done.as_of,
        model_version=f"{FEED_MODEL}/{version}",
        demotion=done.demotion,
        flagged_policy=done.flagged_policy,
    )
    policy = done.authors.group_by("policy").len()
    current, manifests = storage.online_feed().versions()
    problems = [
        text
        for bad, text in (
            (current != manifest.version, f"current version is {current}, not {manifest.version}"),
            (manifest.scores != done.scores.drop_nulls().height, "scores lost on the way"),
            (manifest.viewers != done.priors.height, "viewers lost on the way"),
            (version == "unknown", "no champion feed ranker"),
        )
        if bad
    ]
    yield MaterializeResult(
        metadata={
            "version": manifest.version,
            "model_version": manifest.model_version,
            "viewers": manifest.viewers,
            "scores": manifest.scores,
            **{f"authors_{p}": n for p, n in policy.iter_rows()},
            "versions_kept": len(manifests),
        }
    )
    yield AssetCheckResult(
        check_name="serves_what_was_scored",
        passed=not problems,
        severity=AssetCheckSeverity.ERROR,
        description="; ".join(problems)
        or f"{manifest.scores} scores of {manifest.viewers} viewers",
    )

"""`vouch feed`: read a user's ranked feed a page at a time, or build the feed for a snapshot day
(fan the lake's recent posts out into timelines, score and publish them)."""

from __future__ import annotations

import argparse
import json
import sys
from datetime import date


def _build(args: argparse.Namespace) -> int:
    from cli.run import latest_day, materialize_day, materialized
    from pipelines.assets.timelines import feed_scores, feed_timelines
    from pipelines.definitions import publish_job
    from settings import get_settings

    settings = get_settings()
    day = args.date or latest_day(settings, "user_scores")
    if day is None:
        print("vouch feed: no user scores yet; run `vouch models` first", file=sys.stderr)
        return 2
    result = materialize_day(
        publish_job,
        assets=[feed_timelines, feed_scores],
        day=day,
        settings=settings,
        command="vouch feed --build",
        log_level=args.log_level,
    )
    summary = {"snapshot_date": day.isoformat(), "success": result.success, **materialized(result)}
    print(json.dumps(summary, default=str))
    return 0 if result.success else 1


def _read(args: argparse.Namespace) -> int:
    from serving.feed import open_feed, read_feed

    try:
        page = read_feed(open_feed(), args.user, cursor=args.cursor, page=args.page)
    except ValueError as exc:
        print(f"vouch feed: {exc}", file=sys.stderr)
        return 2
    if args.json:
        print(
            json.dumps(
                {
                    "user": args.user,
                    "version": page.version,
                    "cursor": page.cursor,
                    "items": [
                        {
                            "post_id": i.post_id,
                            "author_id": i.author_id,
                            "created_at": i.created_at.isoformat(),
                            "score": round(i.score, 6),
                            "scored": i.scored,
                            "demoted": i.demoted,
                        }
                        for i in page.items
                    ],
                }
            )
        )
        return 0
    print(
        f"Feed of {args.user} (version {page.version or 'none: chronological'}, "
        f"{len(page.items)} posts)\n"
    )
    for n, i in enumerate(page.items, 1):
        marks = "".join((" [prior]" if not i.scored else "", " [demoted]" if i.demoted else ""))
        print(
            f"  {n:>3}. {i.post_id}  by {i.author_id}  "
            f"{i.created_at:%Y-%m-%d %H:%M}  score {i.score:+.3f}{marks}"
        )
    print(f"\nnext: vouch feed {args.user} --cursor {page.cursor}" if page.cursor else "\nend")
    return 0


def _feed(args: argparse.Namespace) -> int:
    if args.build:
        return _build(args)
    if args.example:
        args.user = _busiest_viewer()
        if args.user is None:
            print("vouch feed: no feed data yet; run `vouch feed --build`", file=sys.stderr)
            return 2
    if not args.user:
        print("vouch feed: give a USER (or --example, or --build)", file=sys.stderr)
        return 2
    return _read(args)


def _busiest_viewer() -> str | None:
    """The viewer with the longest timeline as of the latest user-scores day."""
    from datetime import timedelta

    import polars as pl

    from features.feed.inputs import followed_posts
    from features.platform_graph.store import snapshot_time
    from pipelines.assets.timelines import FEED_DAYS
    from pipelines.resources import Storage
    from settings import get_settings

    storage = Storage(get_settings())
    days = storage.features.days("user_scores")
    if not days:
        return None
    at = snapshot_time(days[-1])
    pushed = followed_posts(
        storage.lake.events_dir, since=at - timedelta(days=FEED_DAYS), before=at
    )
    top = pushed.group_by("viewer_id").agg(pl.len().alias("n")).sort("n", "viewer_id").tail(1)
    return top.item(0, "viewer_id") if top.height else None


def register(sub: argparse._SubParsersAction) -> None:
    """feed."""
    cmd = sub.add_parser(
        "feed",
        help="read a user's ranked feed (or --build it for a snapshot day)",
        description="Print one page of USER's feed: the newest posts of the people they follow, "
        "ordered by the published feed-ranker scores, flagged authors removed, low-trust ones "
        "demoted. --build fans the lake's recent posts out into timelines and publishes the "
        "ranker's scores for a snapshot day (default: the latest day with user scores). The "
        "online store is Redis when VOUCH_REDIS_URL is set, else a SQLite file in the data dir.",
    )
    cmd.add_argument("user", nargs="?", metavar="USER", help="the viewer's user id")
    cmd.add_argument("--cursor", help="the cursor printed with the previous page")
    cmd.add_argument("--page", type=int, default=50, help="posts per page (default 50)")
    cmd.add_argument("--json", action="store_true", help="one JSON object instead of a list")
    cmd.add_argument("--build", action="store_true", help="fan out and publish instead of reading")
    cmd.add_argument(
        "--example",
        action="store_true",
        help="read the feed of the viewer with the longest timeline",
    )
    cmd.add_argument("--date", type=date.fromisoformat, help="snapshot day for --build")
    cmd.add_argument("--log-level", default="WARNING", help="Dagster's console log level")
    cmd.set_defaults(func=_feed)

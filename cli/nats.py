"""`vouch drain-nats`: the JetStream event stream -> NDJSON landing, for `vouch ingest` to read."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path


def _drain(args: argparse.Namespace) -> int:
    # Imported here, not at the top: `vouch --help` should not pay for the NATS client.
    from pipelines.ingest.jetstream import drain_to_landing
    from settings import get_settings

    settings = get_settings()
    url = args.url or settings.nats_url
    if not url:
        print("vouch drain-nats: set VOUCH_NATS_URL or pass --url", file=sys.stderr)
        return 2
    landing = (args.landing or settings.landing).resolve()
    try:
        # Unset options fall back to the library's defaults, which own the stream's names.
        names = {
            "stream": args.stream,
            "subject_prefix": args.subject_prefix,
            "durable": args.durable,
        }
        report = drain_to_landing(
            url,
            landing,
            batch=args.batch,
            max_messages=args.max,
            wait_s=args.wait_s,
            **{k: v for k, v in names.items() if v is not None},
        )
    except LookupError as exc:
        print(f"vouch drain-nats: {exc}", file=sys.stderr)
        return 2
    print(
        json.dumps({"drained": report.drained, "files": len(report.files), "landing": str(landing)})
    )
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    """drain-nats."""
    cmd = sub.add_parser(
        "drain-nats",
        help="JetStream events -> NDJSON landing (then `vouch ingest`)",
        description="Fetch events from the JetStream stream with a durable pull consumer, write "
        "one landing file per batch and ack it; prints {drained, files, landing} as one JSON line.",
    )
    cmd.add_argument("--max", type=int, help="stop after this many events (default: all)")
    cmd.add_argument("--url", help="NATS server (default $VOUCH_NATS_URL)")
    cmd.add_argument(
        "--landing", type=Path, help="landing directory (default $VOUCH_DATA_DIR/landing)"
    )
    cmd.add_argument("--stream", help="stream (default VOUCH_EVENTS)")
    cmd.add_argument(
        "--subject-prefix", help="subjects <prefix>.<event type> (default vouch.events)"
    )
    cmd.add_argument("--durable", help="durable consumer name (default vouch-ingest)")
    cmd.add_argument("--batch", type=int, default=500, help="events per fetch and landing file")
    cmd.add_argument(
        "--wait-s", type=float, default=1.0, help="stop when a fetch waits this long for nothing"
    )
    cmd.set_defaults(func=_drain)

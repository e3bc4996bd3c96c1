"""The peer of the API benches: a bare FastAPI app answering a constant, served by uvicorn with
the settings `vouch api` uses, so a ratio to it is our own overhead.

    python -m bench.peer_app --port P [--workers N]

``GET /peer`` is an ``async def`` route (no thread hop); ``GET /peer/sync`` a plain ``def``
route, which Starlette runs in its thread pool like our sync handlers and dependencies.
"""

from __future__ import annotations

import argparse

import uvicorn
from fastapi import FastAPI

app = FastAPI()
ANSWER = {"id": "00000000-0000-4000-8000-000000000000", "status": "active"}


@app.get("/peer")
async def peer() -> dict[str, str]:
    return ANSWER


@app.get("/peer/sync")
def peer_sync() -> dict[str, str]:
    return ANSWER


@app.get("/identity/me")  # what the benches poll to see that a server is up
async def up() -> dict[str, str]:
    return ANSWER


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.peer_app")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--log-level", default="info")
    args = parser.parse_args()
    target = "bench.peer_app:app" if args.workers > 1 else app
    uvicorn.run(
        target,
        host="127.0.0.1",
        port=args.port,
        log_level=args.log_level,
        proxy_headers=False,
        forwarded_allow_ips=None,
        workers=args.workers,
    )


if __name__ == "__main__":
    main()

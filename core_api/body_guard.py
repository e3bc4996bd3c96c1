"""Request bodies are checked before any route sees them: size, and strict JSON.

FastAPI parses a JSON body with Python's lenient ``json.loads``, so a duplicate key silently
keeps the last value, ``NaN`` or ``1e400`` reach a handler as floats its validators or the
error renderer choke on (a 500), and nesting hundreds of levels deep overflows the stack of any
recursive walk. This pure ASGI middleware reads the body once, refuses what
``core_api.events.strict_json`` refuses with a 422 in FastAPI's error shape (or 413 when the body is
too large), and hands the same bytes on, so the route's own parsing is unchanged.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from core_api.events.strict_json import StrictJSONError, loads

MAX_JSON_BYTES = 1 << 20  # 1 MiB: the largest legitimate body (a listing, a post) is a few KB

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


def _is_json(scope: Scope) -> bool:
    # FastAPI parses as JSON a body with a JSON media type, or with no content type at all.
    for name, value in scope.get("headers", ()):
        if name == b"content-type":
            media = value.split(b";", 1)[0].strip().lower()
            return media == b"application/json" or media.endswith(b"+json")
    return True


class StrictJSONMiddleware:
    def __init__(self, app: ASGIApp, *, max_bytes: int = MAX_JSON_BYTES) -> None:
        self.app, self.max_bytes = app, max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] in ("GET", "HEAD", "OPTIONS"):
            await self.app(scope, receive, send)
            return
        if not _is_json(scope):
            await self.app(scope, receive, send)
            return
        body = await self._read(receive)
        if body is None:
            await _answer(
                send, 413, {"detail": {"reason": "body_too_large", "max_bytes": self.max_bytes}}
            )
            return
        if body:
            try:
                loads(body)
            except StrictJSONError as exc:
                await _answer(send, 422, {"detail": [_error(exc)]})
                return
        await self.app(scope, _replay(body, receive), send)

    async def _read(self, receive: Receive) -> bytes | None:
        chunks, size = [], 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                break
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_bytes:
                return None
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        return b"".join(chunks)


def _error(exc: StrictJSONError) -> dict[str, Any]:
    loc: list[str] = ["body"] + ([exc.where] if exc.reason == "duplicate_key" and exc.where else [])
    return {"type": "json_invalid", "loc": loc, "msg": str(exc), "ctx": {"reason": exc.reason}}


def _replay(body: bytes, receive: Receive) -> Receive:
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if sent:
            return await receive()  # what follows the body: a disconnect, in time
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    return replay


async def _answer(send: Send, status: int, content: dict[str, Any]) -> None:
    body = json.dumps(content, ensure_ascii=True, separators=(",", ":")).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})

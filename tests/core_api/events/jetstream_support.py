"""The real NATS JetStream server for integration tests: a throwaway stream per test."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from dataclasses import dataclass

import nats
from nats.js.errors import NotFoundError

from tests.conftest import require_server

NATS_URL = "nats://127.0.0.1:4222"


@dataclass(frozen=True)
class Stream:
    url: str
    name: str
    prefix: str


@dataclass(frozen=True)
class Stored:
    subject: str
    data: bytes
    msg_id: str | None


async def _probe(url: str) -> None:
    nc = await nats.connect(url, connect_timeout=1, allow_reconnect=False)
    try:
        await nc.jetstream().account_info()  # refused when JetStream is off
    finally:
        await nc.close()


async def _delete(url: str, name: str) -> None:
    nc = await nats.connect(url, connect_timeout=1, allow_reconnect=False)
    try:
        await nc.jetstream().delete_stream(name)
    except NotFoundError:
        pass  # the test never created it
    finally:
        await nc.close()


async def _read(url: str, name: str) -> list[Stored]:
    nc = await nats.connect(url, connect_timeout=1, allow_reconnect=False)
    try:
        js = nc.jetstream()
        state = (await js.stream_info(name)).state
        found = []
        for seq in range(state.first_seq, state.last_seq + 1) if state.messages else ():
            msg = await js.get_msg(name, seq)
            msg_id = (msg.headers or {}).get("Nats-Msg-Id")
            found.append(Stored(subject=msg.subject or "", data=msg.data or b"", msg_id=msg_id))
        return found
    finally:
        await nc.close()


def throwaway_stream(url: str = NATS_URL) -> Iterator[Stream]:
    """Body of a fixture: a unique stream name and subject prefix, the stream deleted after."""
    try:
        asyncio.run(_probe(url))
    except Exception as exc:  # refused, timed out, or JetStream disabled
        require_server("NATS JetStream", False, f"{url}: {exc!r}")
    tag = uuid.uuid4().hex[:12]
    stream = Stream(url=url, name=f"TEST_{tag.upper()}", prefix=f"test{tag}.events")
    try:
        yield stream
    finally:
        asyncio.run(_delete(url, stream.name))


def stored(stream: Stream) -> list[Stored]:
    """Every message the stream holds, in order."""
    return asyncio.run(_read(stream.url, stream.name))

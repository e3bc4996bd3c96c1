"""The outbox's production sink: NATS JetStream (``VOUCH_NATS_URL``).

Each wire line goes to ``<prefix>.<event_type lowercase>`` in one stream, with its ``event_id``
as the ``Nats-Msg-Id`` header: a relay that re-sends a batch whose acknowledgement it lost is
dropped by the stream's duplicate window, and anything older than the window is dropped by the
lake's dedupe on ``event_id``. ``deliver`` returns only when every publish is acknowledged, so the
relay marks rows delivered after the stream has stored them (at least once). A connection that
drops mid-batch fails the batch at once, instead of waiting out the ack timeout for acks that
will never come; the relay's next round sends it again on a fresh connection.

The relay is synchronous and runs both in its own thread and, on shutdown, inside the app's event
loop, where ``asyncio.run`` is refused; so the async client lives on a private loop in a daemon
thread and ``deliver`` waits on it from whichever thread calls.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import hashlib
import logging
import re
import threading
from collections.abc import Coroutine, Sequence
from typing import Any

import nats
import orjson
from nats.aio.client import Client
from nats.js import JetStreamContext
from nats.js.api import StorageType
from nats.js.errors import NotFoundError

# The stream and subjects the pipeline's consumer (pipelines.ingest.jetstream) reads too.
STREAM = "VOUCH_EVENTS"
SUBJECT_PREFIX = "vouch.events"
_TOKEN = re.compile(r"^[a-z0-9_-]+$")
_YIELD_EVERY = 256  # publishes between yields to the event loop
_WATCH_S = 0.05  # how often a batch in flight checks that its connection is still up
log = logging.getLogger(__name__)


async def _log_error(exc: Exception) -> None:
    # The client's default prints a traceback per failed attempt; the relay logs the outcome.
    log.debug("nats: %s", exc)


def address(line: bytes) -> tuple[str, str]:
    """(subject token, message id) of one wire line.

    A line that does not parse still goes out, under ``unknown`` with a content hash as its id,
    so the ingest quarantines it with a reason instead of the relay refusing the batch forever.
    """
    try:
        obj = orjson.loads(line)
        token, msg_id = str(obj["event_type"]).lower(), str(obj["event_id"])
    except (orjson.JSONDecodeError, KeyError, TypeError):
        return "unknown", hashlib.sha256(line).hexdigest()
    return (token if _TOKEN.match(token) else "unknown"), msg_id


async def _stop(task: asyncio.Future) -> None:
    """Cancel ``task`` and wait (briefly) until it is done: nats-py swallows a cancellation that
    lands in its flush of pending data, so one ``cancel()`` may not end a publishing loop."""
    for _ in range(50):
        if task.done():
            break
        task.cancel()
        await asyncio.wait({task}, timeout=0.02)
    if task.done():
        _retrieve(task)


def _retrieve(future: asyncio.Future) -> None:
    if future.done() and not future.cancelled():
        future.exception()  # looked at, so asyncio does not log it as never retrieved


async def _cancel_leftovers() -> None:
    # Tasks of a connection dropped mid-batch, cancelled here rather than destroyed pending.
    rest = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
    for task in rest:
        task.cancel()
    await asyncio.gather(*rest, return_exceptions=True)


class JetStreamSink:
    """``EventSink`` publishing each batch to a JetStream stream and awaiting every ack."""

    def __init__(
        self,
        url: str,
        *,
        stream: str = STREAM,
        subject_prefix: str = SUBJECT_PREFIX,
        timeout_s: float = 10.0,
        duplicate_window_s: float = 120.0,
    ) -> None:
        self.url, self.stream, self.subject_prefix = url, stream, subject_prefix
        self.timeout_s, self.duplicate_window_s = timeout_s, duplicate_window_s
        self._nc: Client | None = None
        self._js: JetStreamContext | None = None
        self._lost = asyncio.Event()  # set when the current connection drops
        self._connecting = asyncio.Lock()  # several relay threads may share one sink
        self._closing: set[asyncio.Future] = set()  # dropped connections still closing
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(
            target=self._loop.run_forever, name="jetstream-sink", daemon=True
        )
        self._thread.start()

    def deliver(self, lines: Sequence[bytes]) -> None:
        if lines:
            self._run(self._publish(list(lines)), timeout_s=self.timeout_s + 5)

    def ready(self, *, timeout_s: float = 2.0) -> None:
        """Raise unless JetStream answers (connecting if need be; for ``/ready``)."""

        async def connected() -> None:
            await self._jetstream()

        self._run(connected(), timeout_s=timeout_s)

    def close(self) -> None:
        if self._loop.is_closed():
            return
        try:
            self._run(self._shutdown(), timeout_s=self.timeout_s)
            self._run(_cancel_leftovers(), timeout_s=5)
        finally:
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(timeout=5)
            self._loop.close()

    def _run(self, coro: Coroutine[Any, Any, None], *, timeout_s: float) -> None:
        future = asyncio.run_coroutine_threadsafe(coro, self._loop)
        try:
            future.result(timeout=timeout_s)
        except concurrent.futures.TimeoutError:
            future.cancel()
            raise TimeoutError(f"JetStream at {self.url} did not answer in {timeout_s}s") from None

    async def _publish(self, lines: list[bytes]) -> None:
        js = await self._jetstream()
        nc, lost = self._nc, self._lost
        assert nc is not None
        try:
            # A batch in flight when the server goes away would otherwise wait out the whole
            # timeout for acks that never come (a relay stalled ~15 s by a 1 s restart): the
            # connection's loss fails it at once, and the relay's next round starts afresh.
            work = asyncio.ensure_future(self._publish_all(js, nc, lines))
            deadline = asyncio.get_running_loop().time() + self.timeout_s
            while not work.done():
                gone = lost.is_set() or not nc.is_connected
                if gone or asyncio.get_running_loop().time() > deadline:
                    await _stop(work)
                    why = "lost the connection" if gone else f"no acks in {self.timeout_s}s"
                    raise ConnectionError(f"JetStream at {self.url}: {why} mid-batch")
                await asyncio.wait({work}, timeout=_WATCH_S)
            work.result()
        except BaseException:
            # Unanswered acks stay registered on this connection; a fresh one starts clean. The
            # old one closes in the background: its final flush to a dead peer may take seconds,
            # and the relay should hear of the failure now.
            self._detach()
            raise

    async def _publish_all(self, js: JetStreamContext, nc: Client, lines: list[bytes]) -> None:
        acks: list[asyncio.Future] = []
        try:
            for i, line in enumerate(lines):
                if i % _YIELD_EVERY == 0:
                    # publish_async rarely suspends: without this the client's reader (which
                    # notices a dropped socket) and the batch's watcher wait for the whole loop.
                    await asyncio.sleep(0)
                if not nc.is_connected:  # see _stop: the client may have swallowed a cancel
                    raise ConnectionError(f"JetStream at {self.url}: lost the connection mid-batch")
                token, msg_id = address(line)
                acks.append(
                    await js.publish_async(
                        f"{self.subject_prefix}.{token}",
                        line,
                        stream=self.stream,  # a subject captured by another stream is an error
                        headers={"Nats-Msg-Id": msg_id},
                    )
                )
            for result in await asyncio.gather(*acks, return_exceptions=True):
                if isinstance(result, BaseException):
                    raise result
        finally:
            for ack in acks:  # an abandoned batch's acks fail later: nothing left unretrieved
                ack.add_done_callback(_retrieve)

    async def _jetstream(self) -> JetStreamContext:
        async with self._connecting:
            if self._lost.is_set():  # dropped since (even if the client reconnected): start clean
                await self._disconnect()
            if self._nc is None or self._nc.is_closed or self._js is None:
                lost = asyncio.Event()

                async def disconnected() -> None:
                    lost.set()

                # Few quick reconnects: the relay's own retry round is the slow, durable retry.
                nc = await nats.connect(
                    self.url,
                    name="vouch-outbox",
                    connect_timeout=2,
                    max_reconnect_attempts=2,
                    reconnect_time_wait=0.5,
                    error_cb=_log_error,
                    disconnected_cb=disconnected,
                )
                js = nc.jetstream(timeout=self.timeout_s)
                try:
                    await self._ensure_stream(js)
                except BaseException:
                    await nc.close()
                    raise
                self._nc, self._js, self._lost = nc, js, lost
            return self._js

    async def _ensure_stream(self, js: JetStreamContext) -> None:
        try:
            await js.stream_info(self.stream)
        except NotFoundError:
            # Two sinks racing here is fine: the server accepts an identical create twice.
            await js.add_stream(
                name=self.stream,
                subjects=[f"{self.subject_prefix}.>"],
                storage=StorageType.FILE,
                duplicate_window=self.duplicate_window_s,
            )

    def _detach(self) -> None:
        nc, self._nc, self._js = self._nc, None, None
        if nc is not None:
            closing = asyncio.ensure_future(_close(nc))
            self._closing.add(closing)
            closing.add_done_callback(self._closing.discard)

    async def _disconnect(self) -> None:
        nc, self._nc, self._js = self._nc, None, None
        await _close(nc)

    async def _shutdown(self) -> None:
        await self._disconnect()
        if self._closing:
            await asyncio.wait(set(self._closing), timeout=2)


async def _close(nc: Client | None) -> None:
    if nc is None or nc.is_closed:
        return
    # Bounded by asyncio.wait, not wait_for: a close flushes what is pending, which a dead peer
    # never takes, and nats-py may swallow the cancellation wait_for would then wait out.
    closing = asyncio.ensure_future(nc.close())
    done, _ = await asyncio.wait({closing}, timeout=2)
    if not done:
        await _stop(closing)
    elif not closing.cancelled() and closing.exception() is not None:
        # A dead socket refuses the final flush: it is gone anyway.
        log.debug("nats: closing a broken connection: %r", closing.exception())

"""Drain the JetStream event stream into the NDJSON landing, so the ingest reads either transport.

A durable pull consumer fetches a batch, the batch becomes one landing file (atomic rename, under
the arrival UTC day, the layout ``vouch ingest`` reads), and only then are its messages acked. A
crash between the rename and the acks lands the batch again on the next drain: at least once,
and the lake dedupes on ``event_id``. A batch that cannot be written is nak'ed for redelivery.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import nats
import nats.errors
from nats.js.api import AckPolicy, ConsumerConfig
from nats.js.errors import NotFoundError

from core_api.events import write_landing_file
from core_api.events.nats_sink import STREAM, SUBJECT_PREFIX

DURABLE = "vouch-ingest"
log = logging.getLogger(__name__)


async def _log_error(exc: Exception) -> None:
    # The client's default prints a traceback per failed attempt; the caller sees the outcome.
    log.debug("nats: %s", exc)


@dataclass
class DrainReport:
    drained: int = 0
    files: list[Path] = field(default_factory=list)


def drain_to_landing(
    url: str,
    landing: Path,
    *,
    stream: str = STREAM,
    subject_prefix: str = SUBJECT_PREFIX,
    durable: str = DURABLE,
    batch: int = 500,
    max_messages: int | None = None,
    wait_s: float = 1.0,
    clock: Callable[[], datetime] | None = None,
) -> DrainReport:
    """Move what the stream holds for ``durable`` into landing files; stops when a fetch waits
    ``wait_s`` for nothing, or after ``max_messages``. Raises LookupError if the stream is absent.
    """
    if batch < 1 or (max_messages is not None and max_messages < 0):
        raise ValueError("batch must be >= 1 and max_messages >= 0")
    return asyncio.run(
        _drain(
            url,
            landing,
            stream=stream,
            subject_prefix=subject_prefix,
            durable=durable,
            batch=batch,
            max_messages=max_messages,
            wait_s=wait_s,
            clock=clock or (lambda: datetime.now(UTC)),
        )
    )


async def _drain(
    url: str,
    landing: Path,
    *,
    stream: str,
    subject_prefix: str,
    durable: str,
    batch: int,
    max_messages: int | None,
    wait_s: float,
    clock: Callable[[], datetime],
) -> DrainReport:
    report = DrainReport()
    nc = await nats.connect(
        url,
        name="vouch-drain",
        connect_timeout=2,
        max_reconnect_attempts=2,
        reconnect_time_wait=0.5,
        error_cb=_log_error,
    )
    try:
        js = nc.jetstream()
        # ack_wait outlasts a slow fsync; max_ack_pending lets a whole batch be in flight.
        config = ConsumerConfig(
            ack_policy=AckPolicy.EXPLICIT, ack_wait=60.0, max_ack_pending=max(batch, 1000)
        )
        try:
            sub = await js.pull_subscribe(
                f"{subject_prefix}.>", durable=durable, stream=stream, config=config
            )
        except NotFoundError:
            raise LookupError(f"no JetStream stream {stream!r} at {url}") from None
        while max_messages is None or report.drained < max_messages:
            want = batch if max_messages is None else min(batch, max_messages - report.drained)
            try:
                msgs = await sub.fetch(want, timeout=wait_s)
            except (TimeoutError, nats.errors.TimeoutError):
                # Nothing arrived while we waited: the stream is drained. nats-py raises its own
                # TimeoutError, or asyncio's when its deadline runs out on a busy machine.
                break
            try:
                path = write_landing_file(
                    landing, [m.data for m in msgs], now=clock(), source="nats"
                )
            except BaseException:
                for m in msgs:
                    await m.nak()
                await nc.flush()
                raise
            for m in msgs:
                await m.ack()
            # The flush's round trip means the server has the acks before we report them done.
            await nc.flush()
            report.drained += len(msgs)
            if path is not None:
                report.files.append(path)
    finally:
        await nc.close()
    return report

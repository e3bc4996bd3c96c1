"""`vouch drain-nats`: the JetStream stream (real server) into landing files the ingest reads."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from cli import main
from core_api.events.nats_sink import JetStreamSink
from pipelines.ingest import Lake, ingest_days, landing_partitions
from pipelines.ingest.jetstream import drain_to_landing, write_landing_file
from tests.conftest import wire
from tests.core_api.events.jetstream_support import Stream, throwaway_stream

ARRIVAL = datetime(2026, 11, 26, 9, 30, tzinfo=UTC)


@pytest.fixture
def empty_stream() -> Iterator[Stream]:
    yield from throwaway_stream()


@pytest.fixture
def loaded(tmp_path: Path) -> Iterator[tuple[Stream, list[bytes]]]:
    """A throwaway stream holding seven events, published by the outbox's own sink."""
    for stream in throwaway_stream():
        lines = [wire("ORDER_PLACED") for _ in range(5)] + [wire("USER_BLOCKED"), b"{oops"]
        sink = JetStreamSink(stream.url, stream=stream.name, subject_prefix=stream.prefix)
        try:
            sink.deliver(lines)
        finally:
            sink.close()
        yield stream, lines


def _drain(stream: Stream, landing: Path, *, batch: int = 500) -> int:
    report = drain_to_landing(
        stream.url,
        landing,
        stream=stream.name,
        subject_prefix=stream.prefix,
        batch=batch,
        wait_s=0.5,
    )
    return report.drained


def _landed(landing: Path) -> list[bytes]:
    return [line for f in sorted(landing.rglob("*.ndjson")) for line in f.read_bytes().splitlines()]


def test_write_landing_file_is_atomic_and_skips_an_empty_batch(tmp_path: Path) -> None:
    assert write_landing_file(tmp_path, [], now=ARRIVAL, source="nats") is None
    path = write_landing_file(tmp_path, [b"a", b"b"], now=ARRIVAL, source="nats")
    assert path is not None and path.parent.name == "2026-11-26" and path.name.startswith("nats-")
    assert path.read_bytes() == b"a\nb\n"
    assert [p.name for p in path.parent.iterdir()] == [path.name]  # no temp file left behind


@pytest.mark.integration
def test_drain_writes_one_file_per_batch_then_acks(
    loaded: tuple[Stream, list[bytes]], tmp_path: Path
) -> None:
    stream, lines = loaded
    landing = tmp_path / "landing"
    report = drain_to_landing(
        stream.url,
        landing,
        stream=stream.name,
        subject_prefix=stream.prefix,
        batch=3,
        wait_s=0.5,
        clock=lambda: ARRIVAL,
    )
    assert report.drained == 7
    assert [len(p.read_bytes().splitlines()) for p in report.files] == [3, 3, 1]
    assert {p.parent.name for p in report.files} == {"2026-11-26"}
    assert [line for p in report.files for line in p.read_bytes().splitlines()] == lines
    assert _drain(stream, landing) == 0  # acked: the durable consumer has nothing left

    [ingest] = ingest_days(landing, sorted(landing_partitions(landing)), lake=Lake(tmp_path / "lk"))
    assert (ingest.read, ingest.ingested, ingest.quarantined) == (7, 6, 1)


@pytest.mark.integration
def test_drain_naks_a_batch_it_cannot_write_for_the_next_drain(
    loaded: tuple[Stream, list[bytes]], tmp_path: Path
) -> None:
    stream, lines = loaded
    blocked = tmp_path / "not-a-dir"
    blocked.write_text("")
    with pytest.raises(OSError):
        _drain(stream, blocked, batch=4)
    # Nak'ed, not left to the ack timeout: the next drain gets every event straight away.
    assert _drain(stream, tmp_path / "landing") == 7
    assert sorted(_landed(tmp_path / "landing")) == sorted(lines)


@pytest.mark.integration
def test_drain_nats_command_honours_max_and_resumes(
    loaded: tuple[Stream, list[bytes]], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    stream, lines = loaded
    args = [
        "drain-nats",
        "--url",
        stream.url,
        "--landing",
        str(tmp_path / "landing"),
        "--stream",
        stream.name,
        "--subject-prefix",
        stream.prefix,
        "--wait-s",
        "0.5",
    ]
    assert main([*args, "--max", "4"]) == 0
    first = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert main(args) == 0
    second = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert (first["drained"], second["drained"]) == (4, 3)
    assert sorted(_landed(tmp_path / "landing")) == sorted(lines)


@pytest.mark.integration
def test_drain_nats_command_reports_a_missing_stream(
    empty_stream: Stream, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(
        [
            "drain-nats",
            "--url",
            empty_stream.url,
            "--landing",
            str(tmp_path),
            "--stream",
            empty_stream.name,
        ]
    )  # never created
    assert code == 2
    assert "no JetStream stream" in capsys.readouterr().err

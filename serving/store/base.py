"""What the online store must do, whichever backend holds it.

Two small protocols, both implemented by each backend file (``redis.py``, ``sqlite.py``):
``ScoreStore`` is the publisher's side (write a whole version, flip one pointer, list and drop
versions); ``DecisionStore`` is the request side: everything one decision needs in one round
trip (``fetch``), ``remember`` once a user proved themselves on a device, and ``override``, an
analyst's per-user verdict that outlives every publish.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

import polars as pl

from serving.keys import Manifest, ScoreRecord


@dataclass(frozen=True, slots=True)
class Counter:
    """One rate-limit counter to increment: its key (``keys.rate_key``) and window."""

    key: str
    window_s: int


@dataclass(frozen=True, slots=True)
class Ask:
    """What a decision needs to read (and which counters this request increments)."""

    user_id: str
    counters: Sequence[Counter] = ()
    device: str | None = None
    country: str | None = None


@dataclass(frozen=True, slots=True)
class Facts:
    """The store's answer: the current version's manifest and the user's record (``None`` when
    nothing is published or the user is unscored), the counters after this request's increment,
    whether the device / country are new for the user (``None`` when not asked), and the
    user's override (``None`` when there is none)."""

    manifest: Manifest | None
    record: ScoreRecord | None
    counts: tuple[int, ...] = ()
    new_device: bool | None = None
    new_country: bool | None = None
    override: str | None = None  # an analyst's per-user override (``keys.OVERRIDES``)


@dataclass(frozen=True, slots=True)
class Served:
    """What a reader caches of the version it reads: the manifest and the reason dictionary
    (``serving.codes``; ``None`` for a version published before it). One object, swapped
    whole, so a thread never pairs one version's manifest with another's dictionary."""

    manifest: Manifest
    book: tuple[str, ...] | None


class ScoreStore(Protocol):
    def write(self, version: str, scores: pl.DataFrame, *, manifest: Manifest) -> None:
        """Store ``scores`` (``user_scores`` rows, their reasons coded by
        ``codes.code_reasons``, encoded with ``keys.encode_scores``), the reason dictionary and
        the manifest (with ``reason_codes`` set) under ``version``; readers cannot see it until
        :meth:`flip`."""
        ...

    def flip(self, version: str) -> None:
        """Point readers at ``version``, atomically."""
        ...

    def versions(self) -> tuple[str | None, list[Manifest]]:
        """The current version and every version's manifest, oldest first (a version whose
        manifest is missing was never completed and is listed with ``records=-1``)."""
        ...

    def drop(self, version: str) -> None:
        """Remove a version's records and manifest (never the current one: callers check)."""
        ...


class DecisionStore(Protocol):
    def fetch(self, ask: Ask) -> Facts:
        """Read the user's published record and override, increment the asked counters
        atomically and look up device / country novelty, in one round trip."""
        ...

    def remember(self, user_id: str, *, device: str | None, country: str | None) -> None:
        """Record that the user acted (after any step-up) from this device and country."""
        ...

    def override(self, user_id: str, action: str | None) -> None:
        """Set the user's override (one of ``keys.OVERRIDES``) or lift it (``None``); the next
        ``fetch`` for the user sees it, whichever version is published."""
        ...

"""The event contract: the envelope every domain event travels in, its payloads and its Arrow form.

Wire form: one JSON object per NDJSON line with exactly the top-level fields ``event_id``,
``event_type``, ``occurred_at``, ``actor_id``, ``subject_id``, ``context``, ``payload`` and
``schema_version``. Amounts travel as decimal strings, times as ISO-8601 UTC with at most
microseconds, ids as UUIDs. A field set to null counts as absent.

Versioning rule. ``schema_version`` is the major version of this whole contract (envelope and
every payload), currently 1.
- Additive changes keep the version: a new event type, or a new *optional* payload field. A reader
  that predates the change quarantines such events (``unknown_event_type`` / ``unknown_field``)
  instead of dropping them, so they can be replayed once the reader is upgraded.
- Anything else bumps it: removing or renaming a field, changing a type or meaning, making an
  optional field required. The ingest then carries an upcaster from every older version it still
  accepts to the current one; versions it does not know are quarantined as
  ``unsupported_schema_version``.
- A field name means one thing in every payload (so payloads share one struct column in the lake).

The pieces live in ``fields`` (field kinds), ``payloads`` (payload models), ``envelope``
(envelope, event types, producing), ``strict_json`` (what a JSON document may not hold),
``landing`` (the NDJSON landing files) and ``nats_sink`` (the JetStream transport) of this
package; everyone else imports the contract from here.
"""

from __future__ import annotations

import itertools
import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from graphlib import CycleError, TopologicalSorter
from typing import Any

import pyarrow as pa
from pydantic import ValidationError
from pydantic_core import ErrorDetails

from core_api.events.envelope import (
    DEFAULT_MAX_FUTURE,
    EARLIEST,
    ENVELOPE_FIELDS,
    EVENT_ADAPTER,
    MAX_LINE_BYTES,
    PAYLOADS,
    SCHEMA_VERSION,
    SUBJECT,
    SUPPORTED_SCHEMA_VERSIONS,
    SYSTEM_ACTOR_ID,
    Context,
    Envelope,
    EventType,
    format_timestamp,
    new_event,
    to_wire,
)
from core_api.events.fields import TIMESTAMP_RE, UUID_RE, Rule, rule_of
from core_api.events.landing import write_landing_file
from core_api.events.payloads import LISTING_CATEGORIES, PLATFORMS, POST_TOPICS
from core_api.events.strict_json import StrictJSONError, no_duplicates, reject_constant

__all__ = [
    "CONTEXT_RULES",
    "DEFAULT_MAX_FUTURE",
    "EARLIEST",
    "ENVELOPE_FIELDS",
    "EVENT_ADAPTER",
    "LAKE_SCHEMA",
    "LISTING_CATEGORIES",
    "MAX_LINE_BYTES",
    "PAYLOADS",
    "PLATFORMS",
    "POST_TOPICS",
    "REASONS",
    "SCHEMA_VERSION",
    "SUBJECT",
    "SUPPORTED_SCHEMA_VERSIONS",
    "SYSTEM_ACTOR_ID",
    "TIMESTAMP_RE",
    "UUID_RE",
    "WIRE_SCHEMA",
    "Context",
    "Envelope",
    "EventType",
    "Rejection",
    "Rule",
    "check_time",
    "format_timestamp",
    "new_event",
    "parse_event",
    "payload_rules",
    "to_wire",
    "type_fields",
    "write_landing_file",
]


# --- rejections ---------------------------------------------------------------------------------
REASONS = (
    "oversized_line",
    "invalid_utf8",
    "truncated_line",
    "invalid_json",
    "not_an_object",
    "duplicate_key",
    "missing_field",
    "wrong_type",
    "unknown_field",
    "unknown_event_type",
    "unsupported_schema_version",
    "malformed_id",
    "bad_timestamp",
    "future_timestamp",
    "invalid_value",
)


@dataclass(frozen=True)
class Rejection:
    """Why a line is not an event: a reason code, the offending field (dotted) and a message."""

    reason: str
    field: str | None
    detail: str


def _rejection_from(error: ErrorDetails) -> Rejection:
    loc = [str(part) for part in error["loc"]]
    if loc and loc[0] in EventType.__members__:
        loc = loc[1:]  # drop the discriminator's tag
    field = ".".join(loc) or None
    kind = error["type"]
    if kind == "missing":
        reason = "missing_field"
    elif kind == "extra_forbidden":
        reason = "unknown_field"
    elif kind == "union_tag_invalid":
        tag = error.get("ctx", {}).get("tag")
        return Rejection("unknown_event_type", "event_type", f"unknown event type {tag!r}")
    elif kind == "union_tag_not_found":
        reason, field = "missing_field", "event_type"
    elif kind == "bad_timestamp":
        reason = "bad_timestamp"
    elif kind.endswith("_type") or kind in {"model_attributes_type", "is_instance_of"}:
        reason = "wrong_type"
    elif kind == "string_pattern_mismatch" and field and _is_id(loc):
        reason = "malformed_id"
    else:
        reason = "invalid_value"
    return Rejection(reason, field, error["msg"])


def _is_id(loc: list[str]) -> bool:
    if loc[0] in {"event_id", "actor_id", "subject_id"}:
        return True
    rule = payload_rules().get(loc[-1]) if loc[0] == "payload" else None
    return bool(rule and rule.is_id)


def _without_nulls(obj: dict[str, Any]) -> dict[str, Any]:
    """On the wire a null field is an absent field, at the top and inside context and payload."""
    out = {k: v for k, v in obj.items() if v is not None}
    for part in ("context", "payload"):
        if isinstance(out.get(part), dict):
            out[part] = {k: v for k, v in out[part].items() if v is not None}
    return out


def parse_event(
    raw: bytes, *, now: datetime | None = None, max_future: timedelta = DEFAULT_MAX_FUTURE
) -> Envelope | Rejection:
    """Validate one wire line (no newline): the reference the fast ingest must agree with."""
    if len(raw) > MAX_LINE_BYTES:
        return Rejection("oversized_line", None, f"{len(raw)} bytes > {MAX_LINE_BYTES}")
    try:
        text_ = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        return Rejection("invalid_utf8", None, str(exc))
    try:
        obj = json.loads(text_, object_pairs_hook=no_duplicates, parse_constant=reject_constant)
    except StrictJSONError as exc:
        if exc.reason == "duplicate_key":
            return Rejection("duplicate_key", exc.where, str(exc))
        return Rejection("invalid_json", None, str(exc))
    except json.JSONDecodeError as exc:
        body = text_.strip()
        # A line cut off in transit starts like an object and stops before its end.
        ended_early = exc.pos >= len(body) or (body.startswith("{") and not body.endswith("}"))
        return Rejection("truncated_line" if ended_early else "invalid_json", None, str(exc))
    except RecursionError:
        return Rejection("invalid_json", None, "nested too deeply")
    if not isinstance(obj, dict):
        return Rejection("not_an_object", None, f"a JSON {type(obj).__name__}, not an object")
    version = obj.get("schema_version")
    is_int = isinstance(version, int) and not isinstance(version, bool)
    if is_int and version not in SUPPORTED_SCHEMA_VERSIONS:
        supported = sorted(SUPPORTED_SCHEMA_VERSIONS)
        return Rejection(
            "unsupported_schema_version", "schema_version", f"{version} not in {supported}"
        )
    obj = _without_nulls(obj)
    if "event_type" in obj and not isinstance(obj["event_type"], str):
        return Rejection("wrong_type", "event_type", "event_type must be a string")
    try:
        event = EVENT_ADAPTER.validate_python(obj)
    except ValidationError as exc:
        return _rejection_from(exc.errors()[0])
    return check_time(event, now=now, max_future=max_future)


def check_time(
    event: Envelope, *, now: datetime | None = None, max_future: timedelta = DEFAULT_MAX_FUTURE
) -> Envelope | Rejection:
    now = now or datetime.now(UTC)
    if event.occurred_at > now + max_future:
        return Rejection(
            "future_timestamp", "occurred_at", f"more than {max_future} ahead of {now}"
        )
    if event.occurred_at < EARLIEST:
        return Rejection("bad_timestamp", "occurred_at", f"before {EARLIEST:%Y-%m-%d}")
    return event


# --- Arrow --------------------------------------------------------------------------------------
def payload_rules() -> dict[str, Rule]:
    """Every payload field of every type, with its single definition."""
    return _PAYLOAD_RULES


def type_fields(event_type: EventType) -> dict[str, bool]:
    """The payload fields of one type, mapped to whether they are required."""
    return {name: f.is_required() for name, f in PAYLOADS[event_type].model_fields.items()}


def _collect_rules() -> dict[str, Rule]:
    """Every payload field once, in one order that agrees with every payload's own field order."""
    rules: dict[str, Rule] = {}
    order: TopologicalSorter[str] = TopologicalSorter()
    for event_type, model in PAYLOADS.items():
        names = list(model.model_fields)
        for name in names:
            rule = rule_of(model.model_fields[name])
            if rules.setdefault(name, rule) != rule:
                raise TypeError(f"{event_type}.{name} redefines payload field {name!r}")
            order.add(name)
        for before, after in itertools.pairwise(names):
            order.add(after, before)
    try:
        return {name: rules[name] for name in order.static_order()}
    except CycleError as exc:
        raise TypeError(f"payload field orders disagree: {exc.args[1]}") from exc


_PAYLOAD_RULES = _collect_rules()
CONTEXT_RULES = {n: rule_of(f) for n, f in Context.model_fields.items()}


def _struct(rules: dict[str, Rule], *, lake: bool) -> pa.StructType:
    return pa.struct([(n, r.lake if lake else r.wire) for n, r in rules.items()])


# What a JSON reader is told to expect: every field at its JSON type.
WIRE_SCHEMA = pa.schema(
    [
        ("event_id", pa.string()),
        ("event_type", pa.string()),
        ("occurred_at", pa.string()),
        ("actor_id", pa.string()),
        ("subject_id", pa.string()),
        ("context", _struct(CONTEXT_RULES, lake=False)),
        ("payload", _struct(_PAYLOAD_RULES, lake=False)),
        ("schema_version", pa.int64()),
    ]
)
# What the lake stores (the ``event_date`` partition comes from the directory name).
_LAKE_FIELDS: list[pa.Field[Any]] = [
    pa.field("event_id", pa.string(), nullable=False),
    pa.field("event_type", pa.string(), nullable=False),
    pa.field("occurred_at", pa.timestamp("us", tz="UTC"), nullable=False),
    pa.field("actor_id", pa.string(), nullable=False),
    pa.field("subject_id", pa.string(), nullable=False),
    pa.field("context", _struct(CONTEXT_RULES, lake=True), nullable=False),
    pa.field("payload", _struct(_PAYLOAD_RULES, lake=True), nullable=False),
    pa.field("schema_version", pa.int32(), nullable=False),
    pa.field("ingested_at", pa.timestamp("us", tz="UTC"), nullable=False),
    pa.field("source", pa.string(), nullable=False),
    pa.field("line", pa.int64(), nullable=False),
]
LAKE_SCHEMA = pa.schema(_LAKE_FIELDS)

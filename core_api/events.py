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
"""

from __future__ import annotations

import itertools
import json
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from graphlib import CycleError, TopologicalSorter
from typing import Annotated, Any, Literal, Union

import pyarrow as pa
from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainSerializer,
    TypeAdapter,
    ValidationError,
    create_model,
)
from pydantic_core import PydanticCustomError

from core_api import payloads as p
from core_api.fields import TIMESTAMP_RE, Country, Id, Ip, Rule, Token, rule_of, text

# Re-exported: consumers of the contract import it from this module only.
from core_api.fields import UUID_RE as UUID_RE
from core_api.payloads import LISTING_CATEGORIES as LISTING_CATEGORIES
from core_api.payloads import PLATFORMS as PLATFORMS
from core_api.payloads import POST_TOPICS as POST_TOPICS

SCHEMA_VERSION = 1
SUPPORTED_SCHEMA_VERSIONS = frozenset({1})
MAX_LINE_BYTES = 1 << 20
DEFAULT_MAX_FUTURE = timedelta(days=1)
EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)
ENVELOPE_FIELDS = (
    "event_id", "event_type", "occurred_at", "actor_id",
    "subject_id", "context", "payload", "schema_version",
)  # fmt: skip


class EventType(StrEnum):
    USER_REGISTERED = "USER_REGISTERED"
    USER_LOGGED_IN = "USER_LOGGED_IN"
    LOGIN_FAILED = "LOGIN_FAILED"
    DEVICE_ADDED = "DEVICE_ADDED"
    VERIFICATION_COMPLETED = "VERIFICATION_COMPLETED"
    CREDENTIAL_CHANGED = "CREDENTIAL_CHANGED"
    ACCOUNT_STATUS_CHANGED = "ACCOUNT_STATUS_CHANGED"
    REVIEW_DECISION = "REVIEW_DECISION"
    TRUST_CONNECTION_ADDED = "TRUST_CONNECTION_ADDED"
    TRUST_CONNECTION_REMOVED = "TRUST_CONNECTION_REMOVED"
    USER_FOLLOWED = "USER_FOLLOWED"
    USER_REPORTED = "USER_REPORTED"
    USER_BLOCKED = "USER_BLOCKED"
    POST_CREATED = "POST_CREATED"
    POST_ENGAGED = "POST_ENGAGED"
    MESSAGE_SENT = "MESSAGE_SENT"
    LISTING_CREATED = "LISTING_CREATED"
    ORDER_PLACED = "ORDER_PLACED"
    ORDER_STATUS_CHANGED = "ORDER_STATUS_CHANGED"
    REVIEW_POSTED = "REVIEW_POSTED"
    DISPUTE_OPENED = "DISPUTE_OPENED"
    DISPUTE_RESOLVED = "DISPUTE_RESOLVED"
    PAYMENT_SUCCESS = "PAYMENT_SUCCESS"
    PAYMENT_FAILED = "PAYMENT_FAILED"
    CHARGEBACK_RECEIVED = "CHARGEBACK_RECEIVED"
    ESCROW_HELD = "ESCROW_HELD"
    ESCROW_RELEASED = "ESCROW_RELEASED"
    REFUND_ISSUED = "REFUND_ISSUED"
    TRANSFER_SENT = "TRANSFER_SENT"
    PAYOUT_REQUESTED = "PAYOUT_REQUESTED"
    PAYOUT_COMPLETED = "PAYOUT_COMPLETED"
    WORKSPACE_CREATED = "WORKSPACE_CREATED"
    WORKSPACE_MEMBER_ADDED = "WORKSPACE_MEMBER_ADDED"
    PROJECT_CREATED = "PROJECT_CREATED"
    TASK_CREATED = "TASK_CREATED"
    TASK_UPDATED = "TASK_UPDATED"


def _model_name(event_type: EventType) -> str:
    return "".join(part.capitalize() for part in event_type.value.split("_"))


PAYLOADS: dict[EventType, type[p.Payload]] = {t: getattr(p, _model_name(t)) for t in EventType}


# What ``subject_id`` names for each type. ``actor_id`` is always the user who acted (the payer
# for payments and their chargebacks, the buyer for escrow and refunds); automated actions use
# SYSTEM_ACTOR_ID.
SYSTEM_ACTOR_ID = "00000000-0000-0000-0000-000000000000"
_SUBJECT_KINDS = {
    "user": "USER_REGISTERED USER_LOGGED_IN LOGIN_FAILED DEVICE_ADDED VERIFICATION_COMPLETED "
    "CREDENTIAL_CHANGED ACCOUNT_STATUS_CHANGED REVIEW_DECISION TRUST_CONNECTION_ADDED "
    "TRUST_CONNECTION_REMOVED USER_FOLLOWED USER_REPORTED USER_BLOCKED MESSAGE_SENT TRANSFER_SENT "
    "WORKSPACE_MEMBER_ADDED",
    "order": "ORDER_PLACED ORDER_STATUS_CHANGED REVIEW_POSTED DISPUTE_OPENED DISPUTE_RESOLVED "
    "ESCROW_HELD ESCROW_RELEASED REFUND_ISSUED",
    "post": "POST_CREATED POST_ENGAGED",
    "listing": "LISTING_CREATED",
    "payment": "PAYMENT_SUCCESS PAYMENT_FAILED CHARGEBACK_RECEIVED",
    "payout": "PAYOUT_REQUESTED PAYOUT_COMPLETED",
    "workspace": "WORKSPACE_CREATED",
    "project": "PROJECT_CREATED",
    "task": "TASK_CREATED TASK_UPDATED",
}
SUBJECT: dict[EventType, str] = {
    EventType(name): kind for kind, names in _SUBJECT_KINDS.items() for name in names.split()
}


def _parse_timestamp(value: Any) -> Any:
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise PydanticCustomError("bad_timestamp", "timestamp must carry a UTC offset")
        return value.astimezone(UTC)
    if not isinstance(value, str):
        return value  # let the strict datetime check name the wrong type
    import re

    if not re.match(TIMESTAMP_RE, value):
        raise PydanticCustomError(
            "bad_timestamp", "expected ISO-8601 UTC like 2026-01-31T12:00:00.123456Z"
        )
    try:
        return datetime.fromisoformat(value).astimezone(UTC)
    except ValueError as exc:
        raise PydanticCustomError(
            "bad_timestamp", "not a calendar time: {e}", {"e": str(exc)}
        ) from exc


def format_timestamp(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


UtcTimestamp = Annotated[
    datetime, BeforeValidator(_parse_timestamp), PlainSerializer(format_timestamp, return_type=str)
]


class Context(BaseModel):
    """Where the action came from. Server-side events may carry none of it."""

    model_config = ConfigDict(strict=True, extra="forbid", frozen=True)
    device_id: Token | None = None
    ip: Ip | None = None
    country: Country | None = None
    user_agent: text(512) | None = None


class Envelope(BaseModel):
    model_config = ConfigDict(strict=True, extra="forbid", frozen=True)
    event_id: Id
    event_type: EventType
    occurred_at: UtcTimestamp
    actor_id: Id
    subject_id: Id
    context: Context
    payload: p.Payload
    schema_version: int = Field(ge=1, le=1_000_000)


_TYPED = tuple(
    create_model(
        f"{_model_name(t)}Event",
        __base__=Envelope,
        event_type=(Literal[t.value], ...),  # type: ignore[valid-type]
        payload=(model, ...),
    )
    for t, model in PAYLOADS.items()
)
Event = Annotated[Union[_TYPED], Field(discriminator="event_type")]  # type: ignore[valid-type]  # noqa: UP007
EVENT_ADAPTER: TypeAdapter[Envelope] = TypeAdapter(Event)


# --- rejections ---------------------------------------------------------------------------------
REASONS = (
    "oversized_line", "invalid_utf8", "truncated_line", "invalid_json", "not_an_object",
    "duplicate_key", "missing_field", "wrong_type", "unknown_field", "unknown_event_type",
    "unsupported_schema_version", "malformed_id", "bad_timestamp", "future_timestamp",
    "invalid_value",
)  # fmt: skip


@dataclass(frozen=True)
class Rejection:
    """Why a line is not an event: a reason code, the offending field (dotted) and a message."""

    reason: str
    field: str | None
    detail: str


class _DuplicateKey(ValueError):
    pass


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise _DuplicateKey(key)
        out[key] = value
    return out


def _reject_constant(name: str) -> Any:
    raise json.JSONDecodeError(f"{name} is not JSON", name, 0)


def _rejection_from(error: dict[str, Any]) -> Rejection:
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
        obj = json.loads(text_, object_pairs_hook=_no_duplicates, parse_constant=_reject_constant)
    except _DuplicateKey as exc:
        return Rejection("duplicate_key", str(exc), f"key {exc} appears twice")
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


# --- producing ------------------------------------------------------------------------------
def new_event(
    event_type: EventType | str,
    *,
    actor_id: uuid.UUID | str,
    subject_id: uuid.UUID | str,
    payload: dict[str, Any] | p.Payload,
    context: dict[str, Any] | Context | None = None,
    occurred_at: datetime | None = None,
    event_id: uuid.UUID | str | None = None,
) -> Envelope:
    """Build a validated event; raises pydantic.ValidationError naming the failing field."""
    if isinstance(payload, BaseModel):
        payload = payload.model_dump()
    if isinstance(context, BaseModel):
        context = context.model_dump()
    return EVENT_ADAPTER.validate_python(
        {
            "event_id": event_id or uuid.uuid4(),
            "event_type": str(event_type),
            "occurred_at": occurred_at or datetime.now(UTC),
            "actor_id": actor_id,
            "subject_id": subject_id,
            "context": context or {},
            "payload": payload,
            "schema_version": SCHEMA_VERSION,
        }
    )


def to_wire(event: Envelope) -> bytes:
    """One NDJSON line, without the newline. Absent optional fields are left out."""
    return event.model_dump_json(exclude_none=True).encode()


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
    order = TopologicalSorter()
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
LAKE_SCHEMA = pa.schema(
    [
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
)

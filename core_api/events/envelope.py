"""The envelope: event types, what their subject is, the typed event models, and producing them.

Part of the event contract; import it through ``core_api.events``.
"""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Annotated, Any, Literal, Union

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainSerializer,
    TypeAdapter,
    create_model,
)
from pydantic_core import PydanticCustomError

from core_api.events import payloads as p
from core_api.events.fields import TIMESTAMP_RE, Country, Id, Ip, Token, text

SCHEMA_VERSION = 1
SUPPORTED_SCHEMA_VERSIONS = frozenset({1})
MAX_LINE_BYTES = 1 << 20
DEFAULT_MAX_FUTURE = timedelta(days=1)
EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)
ENVELOPE_FIELDS = (
    "event_id",
    "event_type",
    "occurred_at",
    "actor_id",
    "subject_id",
    "context",
    "payload",
    "schema_version",
)


class EventType(StrEnum):
    USER_REGISTERED = "USER_REGISTERED"
    USER_LOGGED_IN = "USER_LOGGED_IN"
    LOGIN_FAILED = "LOGIN_FAILED"
    DEVICE_ADDED = "DEVICE_ADDED"
    VERIFICATION_COMPLETED = "VERIFICATION_COMPLETED"
    CREDENTIAL_CHANGED = "CREDENTIAL_CHANGED"
    ACCOUNT_STATUS_CHANGED = "ACCOUNT_STATUS_CHANGED"
    REVIEW_DECISION = "REVIEW_DECISION"
    REVIEW_INFO_REQUESTED = "REVIEW_INFO_REQUESTED"
    NOTIFICATION_PREFERENCE_CHANGED = "NOTIFICATION_PREFERENCE_CHANGED"
    TRUST_CONNECTION_ADDED = "TRUST_CONNECTION_ADDED"
    TRUST_CONNECTION_REMOVED = "TRUST_CONNECTION_REMOVED"
    USER_FOLLOWED = "USER_FOLLOWED"
    USER_REPORTED = "USER_REPORTED"
    USER_BLOCKED = "USER_BLOCKED"
    POST_CREATED = "POST_CREATED"
    POST_ENGAGED = "POST_ENGAGED"
    MESSAGE_SENT = "MESSAGE_SENT"
    GROUP_CREATED = "GROUP_CREATED"
    GROUP_JOINED = "GROUP_JOINED"
    GROUP_JOIN_REJECTED = "GROUP_JOIN_REJECTED"
    GROUP_MEMBER_LEFT = "GROUP_MEMBER_LEFT"
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
    SUBSCRIPTION_STARTED = "SUBSCRIPTION_STARTED"
    SUBSCRIPTION_RENEWED = "SUBSCRIPTION_RENEWED"
    SUBSCRIPTION_PAYMENT_FAILED = "SUBSCRIPTION_PAYMENT_FAILED"
    SUBSCRIPTION_CANCELLED = "SUBSCRIPTION_CANCELLED"
    FILE_ATTACHED = "FILE_ATTACHED"
    POST_EDITED = "POST_EDITED"
    LISTING_SEARCHED = "LISTING_SEARCHED"


def _model_name(event_type: EventType) -> str:
    return "".join(part.capitalize() for part in event_type.value.split("_"))


PAYLOADS: dict[EventType, type[p.Payload]] = {t: getattr(p, _model_name(t)) for t in EventType}


# What ``subject_id`` names for each type. ``actor_id`` is always the user who acted (the payer
# for payments and their chargebacks, the buyer for escrow and refunds, the subscriber for every
# step of a subscription, the billing run's included); automated actions use SYSTEM_ACTOR_ID.
SYSTEM_ACTOR_ID = "00000000-0000-0000-0000-000000000000"
_SUBJECT_KINDS = {
    "user": "USER_REGISTERED USER_LOGGED_IN LOGIN_FAILED DEVICE_ADDED VERIFICATION_COMPLETED "
    "CREDENTIAL_CHANGED ACCOUNT_STATUS_CHANGED REVIEW_DECISION REVIEW_INFO_REQUESTED "
    "NOTIFICATION_PREFERENCE_CHANGED "
    "TRUST_CONNECTION_ADDED TRUST_CONNECTION_REMOVED USER_FOLLOWED USER_REPORTED USER_BLOCKED "
    "MESSAGE_SENT TRANSFER_SENT WORKSPACE_MEMBER_ADDED GROUP_JOINED GROUP_JOIN_REJECTED "
    "GROUP_MEMBER_LEFT",
    "order": "ORDER_PLACED ORDER_STATUS_CHANGED REVIEW_POSTED DISPUTE_OPENED DISPUTE_RESOLVED "
    "ESCROW_HELD ESCROW_RELEASED REFUND_ISSUED",
    "post": "POST_CREATED POST_ENGAGED POST_EDITED",
    "listing": "LISTING_CREATED LISTING_SEARCHED",
    "payment": "PAYMENT_SUCCESS PAYMENT_FAILED CHARGEBACK_RECEIVED",
    "payout": "PAYOUT_REQUESTED PAYOUT_COMPLETED",
    "workspace": "WORKSPACE_CREATED",
    "group": "GROUP_CREATED",
    "project": "PROJECT_CREATED",
    "task": "TASK_CREATED TASK_UPDATED",
    "subscription": "SUBSCRIPTION_STARTED SUBSCRIPTION_RENEWED SUBSCRIPTION_PAYMENT_FAILED "
    "SUBSCRIPTION_CANCELLED",
    "file": "FILE_ATTACHED",
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
    user_agent: Annotated[str, text(512)] | None = None


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


# One model per event type, built at run time from PAYLOADS: a type checker cannot follow a Literal
# or a Union made of run-time values, hence the two ignores.
_TYPED = tuple(
    create_model(
        f"{_model_name(t)}Event",
        __base__=Envelope,
        event_type=(Literal[t.value], ...),  # type: ignore[arg-type]
        payload=(model, ...),
    )
    for t, model in PAYLOADS.items()
)
Event = Annotated[Union[_TYPED], Field(discriminator="event_type")]  # type: ignore[valid-type]  # noqa: UP007
EVENT_ADAPTER: TypeAdapter[Envelope] = TypeAdapter(Event)


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

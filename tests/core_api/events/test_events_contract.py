from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pyarrow as pa
import pytest
from pydantic import ValidationError

from core_api.events import (
    ENVELOPE_FIELDS,
    LAKE_SCHEMA,
    PAYLOADS,
    REASONS,
    SUBJECT,
    WIRE_SCHEMA,
    EventType,
    Rejection,
    new_event,
    parse_event,
    payload_rules,
    to_wire,
    type_fields,
)
from tests.conftest import NOW, wire


def _reject(line: bytes, **kw) -> Rejection:
    verdict = parse_event(line, now=NOW, **kw)
    assert isinstance(verdict, Rejection), verdict
    return verdict


def test_wire_round_trip_keeps_every_value() -> None:
    line = wire("ORDER_PLACED")
    event = parse_event(line, now=NOW)
    assert not isinstance(event, Rejection)
    assert to_wire(event) == line
    obj = json.loads(line)
    assert tuple(obj) == ENVELOPE_FIELDS
    assert obj["payload"]["amount"] == "12.50" and obj["occurred_at"].endswith("Z")
    assert Decimal(event.payload.amount) == Decimal("12.50")


def test_producer_accepts_python_objects_and_names_bad_fields() -> None:
    event = new_event(
        EventType.ESCROW_HELD,
        actor_id=uuid.uuid4(),
        subject_id=uuid.uuid4(),
        payload={"amount": Decimal("3.10"), "currency": "USD", "seller_id": uuid.uuid4()},
    )
    assert json.loads(to_wire(event))["payload"]["amount"] == "3.10"
    with pytest.raises(ValidationError) as info:
        new_event(
            "ESCROW_HELD",
            actor_id=uuid.uuid4(),
            subject_id=uuid.uuid4(),
            payload={"amount": "3.10", "currency": "usd", "seller_id": uuid.uuid4()},
        )
    assert info.value.errors()[0]["loc"][-2:] == ("payload", "currency")


@pytest.mark.parametrize(
    ("line", "reason", "field"),
    [
        (b'{"event_id": ', "truncated_line", None),
        (b"{nope}", "invalid_json", None),
        (b"\xff\xfe{}", "invalid_utf8", None),
        (b"[1, 2]", "not_an_object", None),
        (b'{"a": 1, "a": 2}', "duplicate_key", "a"),
        (b"{" + b" " * (1 << 20) + b"}", "oversized_line", None),
        (wire(event_id="not-a-uuid"), "malformed_id", "event_id"),
        (wire(event_type="ORDER_TELEPORTED"), "unknown_event_type", "event_type"),
        (wire(event_type=7), "wrong_type", "event_type"),
        (wire(actor_id=123), "wrong_type", "actor_id"),
        (wire(occurred_at="2026-08-09 08:30:00"), "bad_timestamp", "occurred_at"),
        (wire(occurred_at="2026-02-30T08:30:00Z"), "bad_timestamp", "occurred_at"),
        (wire(occurred_at="2031-01-01T00:00:00Z"), "future_timestamp", "occurred_at"),
        (wire(schema_version=2), "unsupported_schema_version", "schema_version"),
        (wire(extra=1), "unknown_field", "extra"),
        (wire(context={"ip": "999.1.1.1"}), "invalid_value", "context.ip"),
        (wire(payload={"edge_type": "friend"}), "missing_field", "payload.listing_id"),
        (
            wire("TRUST_CONNECTION_ADDED", payload={"edge_type": "friend", "weight": 1.5}),
            "invalid_value",
            "payload.weight",
        ),
        (
            wire("POST_ENGAGED", payload={"engagement": "view", "author_id": "x"}),
            "malformed_id",
            "payload.author_id",
        ),
    ],
)
def test_each_bad_line_gets_its_reason_and_field(
    line: bytes, reason: str, field: str | None
) -> None:
    verdict = _reject(line)
    assert (verdict.reason, verdict.field) == (reason, field)
    assert verdict.reason in REASONS


def test_future_tolerance_is_a_parameter() -> None:
    line = wire(occurred_at=(NOW + timedelta(hours=5)).strftime("%Y-%m-%dT%H:%M:%SZ"))
    assert not isinstance(parse_event(line, now=NOW), Rejection)
    assert _reject(line, max_future=timedelta(hours=1)).reason == "future_timestamp"


def test_every_type_has_a_payload_model_and_a_subject() -> None:
    assert set(PAYLOADS) == set(EventType) == set(SUBJECT)
    seed_types = {
        "USER_REGISTERED",
        "TRUST_CONNECTION_ADDED",
        "LISTING_CREATED",
        "ORDER_PLACED",
        "PAYMENT_SUCCESS",
        "MESSAGE_SENT",
        "TASK_UPDATED",
    }
    assert seed_types <= {t.value for t in EventType}


def test_arrow_schemas_cover_the_union_of_payloads() -> None:
    payload = WIRE_SCHEMA.field("payload").type
    assert {payload.field(i).name for i in range(payload.num_fields)} == set(payload_rules())
    for event_type in PAYLOADS:
        assert set(type_fields(event_type)) <= set(payload_rules())
    lake_payload = LAKE_SCHEMA.field("payload").type
    assert lake_payload.field("amount").type == pa.decimal128(18, 4)
    assert LAKE_SCHEMA.field("occurred_at").type == pa.timestamp("us", tz="UTC")


def test_timestamps_normalise_to_utc_microseconds() -> None:
    event = parse_event(wire(occurred_at="2026-08-09T08:30:00.5+00:00"), now=NOW)
    assert not isinstance(event, Rejection)
    assert event.occurred_at == datetime(2026, 8, 9, 8, 30, 0, 500000, tzinfo=UTC)
    assert json.loads(to_wire(event))["occurred_at"] == "2026-08-09T08:30:00.500000Z"

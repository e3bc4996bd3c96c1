"""The columnar fast path must accept exactly the lines the reference parser accepts."""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core_api.events import (
    CONTEXT_RULES,
    PAYLOADS,
    Rejection,
    Rule,
    parse_event,
    payload_rules,
    type_fields,
)
from pipelines.ingest.process import Batch, process_batch
from tests.conftest import NOW

_SAMPLES = {r"^[A-Z]{3}$": "EUR", r"^[A-Z]{2}$": "DE"}


def _valid(rule: Rule) -> Any:
    if rule.is_id:
        return str(uuid.UUID(int=12345))
    if rule.choices:
        return rule.choices[-1]
    if rule.pattern:
        if "[0-9]{1,14}" in rule.pattern:
            return "19.99"
        if "25[0-5]" in rule.pattern:
            return "192.168.0.1"
        return _SAMPLES.get(rule.pattern, "tok_1")
    if str(rule.wire) == "bool":
        return True
    if rule.ge is not None:
        kind = int if str(rule.wire) == "int64" else float
        return kind(rule.ge)
    return "text"


def _event(event_type: str) -> dict[str, Any]:
    rules = payload_rules()
    return {
        "event_id": str(uuid.uuid4()),
        "event_type": event_type,
        "occurred_at": "2026-08-09T10:00:00.123Z",
        "actor_id": str(uuid.uuid4()),
        "subject_id": str(uuid.uuid4()),
        "context": {name: _valid(rule) for name, rule in CONTEXT_RULES.items()},
        "payload": {name: _valid(rules[name]) for name in type_fields(event_type)},
        "schema_version": 1,
    }


ODD_VALUES = st.sampled_from(
    [
        None,
        0,
        -1,
        1,
        1.5,
        2**70,
        "",
        "x",
        "EUR",
        "de",
        "19.999",
        "19.99",
        "0.5",
        " 1",
        True,
        [],
        {},
        str(uuid.uuid4()).upper(),
        "2026-08-09T10:00:00Z",
        "2026-08-09T10:00:00",
        "2026-13-01T00:00:00Z",
        "192.168.0.256",
        "::1",
        "A" * 600,
        1e308,
        "friend",
        "view",
    ]
)


@st.composite
def mutated_line(draw: st.DrawFn) -> bytes:
    obj = _event(draw(st.sampled_from([t.value for t in PAYLOADS])))
    for _ in range(draw(st.integers(0, 2))):
        where = draw(st.sampled_from(["top", "context", "payload"]))
        target = obj if where == "top" or not isinstance(obj.get(where), dict) else obj[where]
        keys = [*target, "unexpected", *list(payload_rules())[:8]]
        key = draw(st.sampled_from(keys))
        if draw(st.booleans()) and key in target:
            del target[key]
        else:
            target[key] = draw(ODD_VALUES)
    return json.dumps(obj, separators=(",", ":")).encode()


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(lines=st.lists(mutated_line(), min_size=1, max_size=25))
def test_fast_path_and_reference_agree(tmp_path: Path, lines: list[bytes]) -> None:
    path = tmp_path / "batch.ndjson"
    path.write_bytes(b"\n".join(lines) + b"\n")
    outcome = process_batch(Batch.read([path], ["batch.ndjson"]), now=NOW)
    accepted = set(outcome.events.get_column("line").to_list())
    for number, line in enumerate(lines, start=1):
        reference = parse_event(line, now=NOW)
        assert (number in accepted) == (not isinstance(reference, Rejection)), (line, reference)
    details = outcome.quarantine.get_column("detail").to_list()
    assert not [d for d in details if "columnar rules refuse" in d]
    assert outcome.read == outcome.events.height + outcome.quarantine.height


def _canonical() -> bytes:
    from tests.conftest import wire

    return wire("TRUST_CONNECTION_ADDED")


# Text a lenient JSON reader takes but strict JSON (and so the reference) refuses, or valid
# JSON in another encoding: each must end the way the reference decides.
LENIENT = [
    lambda s: s[:-1] + b",}",  # trailing comma
    lambda s: s.replace(b'"weight":0.7', b'"weight":NaN'),
    lambda s: s.replace(b'"weight":0.7', b'"weight":Infinity'),
    lambda s: s.replace(b'"weight":0.7', b'"weight":0.7,"weight":0.7'),  # duplicate key
    lambda s: s.replace(b'"edge_type":"friend"', b'"edge_type":"fri\\u0065nd"'),  # escape
    lambda s: s.replace(b'"edge_type":"friend"', b'"edge_type":"fri\tend"'),  # raw tab
    lambda s: s.replace(b'"weight":0.7', b'"weight":"0.7"'),
    lambda s: s.replace(b'"weight":0.7', b'"weight":7e-1'),
    lambda s: s.replace(b'"schema_version":1', b'"schema_version":1.0'),
    lambda s: s.replace(b'"schema_version":1', b'"schema_version":true'),
    lambda s: s.replace(b',"payload"', b' , "payload" '),
    lambda s: s.replace(b'"context":{', b'"context":{"device_id":null,', 1),
    lambda s: s.replace(b'{"event_id"', b'{/* c */"event_id"'),
    lambda s: s.replace(b'"friend"', b"'friend'"),
    lambda s: s + b" ",
]


def test_lenient_or_odd_encodings_end_as_the_reference_decides(tmp_path: Path) -> None:
    lines = [mutate(_canonical()) for mutate in LENIENT]
    path = tmp_path / "odd.ndjson"
    path.write_bytes(b"\n".join(lines) + b"\n")
    outcome = process_batch(Batch.read([path], ["odd.ndjson"]), now=NOW)
    accepted = set(outcome.events.get_column("line").to_list())
    verdicts = [parse_event(line, now=NOW) for line in lines]
    assert accepted == {n for n, v in enumerate(verdicts, 1) if not isinstance(v, Rejection)}
    assert 0 < len(accepted) < len(lines)  # both outcomes are exercised

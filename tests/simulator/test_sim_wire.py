"""The landing files are byte-for-byte what ``core_api.events.to_wire`` would write."""

from __future__ import annotations

import json
import re
import uuid
from datetime import timedelta

import numpy as np
import polars as pl
import pytest

from core_api.events import ENVELOPE_FIELDS, Envelope, Rejection, new_event, parse_event, to_wire
from simulator.wire import frame, money_text, obj, render_lines

from .conftest import Run

MONEY = re.compile(r"^[0-9]+\.[0-9]{2}$")
STAMP = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$")
MONEY_FIELDS = ("amount", "price")


def test_every_line_validates_and_matches_to_wire(honest: Run) -> None:
    now = honest.end + timedelta(days=1)
    checked = 0
    for path in honest.files():
        data = path.read_bytes()
        assert data.endswith(b"\n")
        for i, line in enumerate(data[:-1].split(b"\n")):
            event = parse_event(line, now=now)
            assert not isinstance(event, Rejection), (path, i, event)
            if i % 7 == 0:
                assert to_wire(event) == line
                checked += 1
    assert checked > 1000


def test_envelope_layout(honest: Run) -> None:
    path = honest.files()[5]
    for line in path.read_text().splitlines()[:2000]:
        obj_ = json.loads(line)
        assert tuple(obj_) == ENVELOPE_FIELDS
        assert STAMP.match(obj_["occurred_at"])
        for key in ("event_id", "actor_id", "subject_id"):
            uuid.UUID(obj_[key])
        assert uuid.UUID(obj_["event_id"]).version == 4
        for name in MONEY_FIELDS:
            if name in obj_["payload"]:
                assert MONEY.match(obj_["payload"][name])


def test_layout_and_time_window(honest: Run) -> None:
    start, end = honest.start, honest.end
    folders = sorted({p.parent.name for p in honest.files()})
    assert folders[0] == start.strftime("%Y-%m-%d") and len(folders) == honest.config.days
    names = {p.name for p in honest.files()}
    assert "bootstrap.ndjson" in names
    assert all(re.match(r"^part-\d{4}\.ndjson$", n) for n in names - {"bootstrap.ndjson"})
    boot = honest.out / start.strftime("%Y-%m-%d") / "bootstrap.ndjson"
    kinds = set()
    for line in boot.read_text().splitlines():
        e = json.loads(line)
        kinds.add(e["event_type"])
        assert e["occurred_at"] < start.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    assert kinds <= {"USER_REGISTERED", "DEVICE_ADDED", "VERIFICATION_COMPLETED"}
    fmt = "%Y-%m-%dT%H:%M:%S.%fZ"
    for path in honest.files():
        if path.name == "bootstrap.ndjson":
            continue
        for line in path.read_text().splitlines()[::50]:
            stamp = json.loads(line)["occurred_at"]
            assert start.strftime(fmt) <= stamp < end.strftime(fmt)


def test_summary_counts(honest: Run) -> None:
    s = honest.summary
    assert s.events == sum(s.counts_by_type.values())
    assert s.lines == s.events + s.duplicates
    assert s.bytes == sum(p.stat().st_size for p in honest.files())
    assert set(s.files) == set(honest.files())
    registered = s.counts_by_type["USER_REGISTERED"]
    assert honest.config.users - s.undelivered <= registered <= honest.config.users
    assert len(s.counts_by_type) >= 34


@pytest.mark.parametrize(
    "value", [0.0, 1.0, 0.1, 0.5, 0.36, 0.9999, -33.8688, 151.21, 0.0001, 0.00004, 12.34567]
)
def test_floats_render_like_pydantic(value: float) -> None:
    ctx = {"device_id": "dev_1", "ip": "10.0.0.1", "country": "US", "user_agent": "curl/8.7.1"}
    payload = {
        "category": "books",
        "price": "1.50",
        "currency": "USD",
        "item_condition": "new",
        "lat": round(max(-90.0, min(90.0, value)), 4),
        "lon": round(value, 4),
    }
    event = new_event(
        "LISTING_CREATED",
        actor_id=uuid.UUID(int=1),
        subject_id=uuid.UUID(int=2),
        payload=payload,
        context=ctx,
        event_id=uuid.UUID(int=3),
    )
    mine = frame(
        "LISTING_CREATED",
        np.array([int(event.occurred_at.timestamp() * 1e6)]),
        actor=str(uuid.UUID(int=1)),
        subject=pl.Series([str(uuid.UUID(int=2))]),
        ctx=obj(
            1,
            [
                ("device_id", "s", "dev_1"),
                ("ip", "ip", np.array([10 << 24 | 1])),
                ("country", "s", "US"),
                ("user_agent", "s", "curl/8.7.1"),
            ],
        ),
        payload=obj(
            1,
            [
                ("category", "s", "books"),
                ("price", "m", np.array([150])),
                ("currency", "s", "USD"),
                ("item_condition", "s", "new"),
                ("lat", "f4", np.array([payload["lat"]])),
                ("lon", "f4", np.array([payload["lon"]])),
            ],
        ),
    )
    line = render_lines(mine, pl.Series([str(uuid.UUID(int=3))]))[0].encode()
    assert line == to_wire(event)
    assert isinstance(parse_event(line, now=event.occurred_at), Envelope)


def test_optional_fields_left_out_and_money_text() -> None:
    text = obj(
        3,
        [
            ("a", "s", pl.Series(["x", None, "z"])),
            ("b", "i", np.array([1, 2, 3])),
            ("c", "b", np.array([True, False, True])),
        ],
    )
    assert text.to_list() == [
        '{"a":"x","b":1,"c":true}',
        '{"b":2,"c":false}',
        '{"a":"z","b":3,"c":true}',
    ]
    assert money_text(np.array([0, 5, 1250, 123456789])).to_list() == [
        "0.00",
        "0.05",
        "12.50",
        "1234567.89",
    ]
    assert obj(2, []).to_list() == ["{}", "{}"]

"""Regressions of issue 12's probes, on each database: hostile JSON is a 4xx, never a 500.

Each case was a 500 before: NaN / Infinity / 1e400 reached the validation-error renderer, a
field nested ~900 levels deep overflowed the input validator's recursion, and a duplicate key
was silently accepted (the last value won).
"""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from core_api.events.payloads import POST_TOPICS
from tests.core_api.routers.helpers import PASSWORD, signed_in

# Raw JSON templates: the hostile token replaces X, where a JSON value stands.
REGISTER = f'{{"email":"h@example.com","password":"{PASSWORD}","display_name":X}}'
LOGIN = '{"email":"h@example.com","password":X}'
POST = f'{{"body":X,"topic":"{POST_TOPICS[0]}"}}'
LISTING = (
    '{"title":"Lamp","category":"home","item_condition":"used","price":"5","currency":"EUR",'
    '"quantity":1,"lat":X,"lon":2.0}'
)
HOSTILE = {
    "nan": ("NaN", "non_finite_number"),
    "infinity": ("Infinity", "non_finite_number"),
    "minus_infinity": ("-Infinity", "non_finite_number"),
    "beyond_double": ("1e400", "number_out_of_range"),
    "beyond_int64": ("9" * 40, "number_out_of_range"),
    "nested_900": ("[" * 900 + "]" * 900, "too_deep"),
    "nested_100k": ("[" * 100_000 + "]" * 100_000, "too_deep"),
}
JSON = {"Content-Type": "application/json"}


def _send(api: TestClient, path: str, body: str, headers: dict[str, str]) -> Any:
    return api.post(path, content=body, headers={**JSON, **headers})


@pytest.mark.parametrize("case", HOSTILE, ids=list(HOSTILE))
def test_hostile_numbers_and_nesting_are_422_on_each_database(
    any_api: TestClient, case: str
) -> None:
    token, reason = HOSTILE[case]
    _, headers = signed_in(any_api)
    for path, template, auth in (
        ("/identity/register", REGISTER, {}),
        ("/identity/login", LOGIN, {}),
        ("/social/posts", POST, headers),
        ("/marketplace/listings", LISTING, headers),
    ):
        answer = _send(any_api, path, template.replace("X", token), auth)
        assert answer.status_code == 422, (path, answer.text[:200])
        assert answer.json()["detail"][0]["ctx"]["reason"] == reason, path


def test_a_duplicate_key_is_refused_not_last_wins(any_api: TestClient) -> None:
    body = REGISTER.replace('"email":', '"email":"a@example.com","email":').replace("X", '"D"')
    answer = _send(any_api, "/identity/register", body, {})
    assert answer.status_code == 422
    [error] = answer.json()["detail"]
    assert error["loc"] == ["body", "email"] and error["ctx"]["reason"] == "duplicate_key"
    # Nested objects too: the rule holds at every level.
    _, headers = signed_in(any_api)
    nested = '{"participant_ids":["00000000"],"participant_ids":[]}'
    assert _send(any_api, "/social/conversations", nested, headers).status_code == 422


def test_an_oversized_body_is_413_and_a_bad_one_leaves_nothing(any_api: TestClient) -> None:
    big = REGISTER.replace("X", '"' + "a" * 2**21 + '"')
    assert _send(any_api, "/identity/register", big, {}).status_code == 413
    hostile = REGISTER.replace("X", "NaN")
    assert _send(any_api, "/identity/register", hostile, {}).status_code == 422
    # Nothing was written by either: the address is still free.
    ok = _send(any_api, "/identity/register", REGISTER.replace("X", '"H"'), {})
    assert ok.status_code == 201, ok.text


def test_a_body_without_content_type_is_held_to_the_same_rules(any_api: TestClient) -> None:
    # FastAPI parses a body with no content type as JSON, so the guard must too.
    answer = any_api.post("/identity/login", content=LOGIN.replace("X", "NaN"))
    assert answer.status_code == 422

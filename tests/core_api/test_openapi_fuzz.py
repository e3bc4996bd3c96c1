"""Schemathesis over the core API's own OpenAPI schema: no generated request may get a 5xx.

Every operation is called with valid and invalid inputs (positive and negative generation) as a
signed-in, verified, trusted admin, so the handlers behind the auth check are reached too. Random
UUIDs in paths only ever reach a 404, so a third strategy fills path parameters with the ids of
real objects (a post, an order, a workspace, ...) the fuzz user can see. The only check is
``not_a_server_error``: bad input must be answered 4xx, never crash a handler.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.python.asgi import shutdown_lifespans

from core_api.app import create_app
from core_api.db.admin import RoleGrant
from core_api.db.identity import User
from core_api.deps import Client
from core_api.events.payloads import POST_TOPICS
from core_api.services import auth
from settings import Settings
from tests.conftest import require_server
from tests.core_api.conftest import CLIENT_IP, PG_DSN
from tests.core_api.routers.helpers import signed_in
from tests.core_api.routers.money_helpers import fund, key, trusted

# 82 operations x 3 strategies x 2 databases; bounded to keep the run near a minute on 2 cores.
EXAMPLES = 10
LISTING = {
    "title": "Lamp",
    "category": "home",
    "item_condition": "used",
    "price": "5",
    "currency": "EUR",
    "quantity": 5,
    "lat": 1.0,
    "lon": 2.0,
}

PLAN = {"name": "Pro", "price": "5", "currency": "EUR", "interval": "week"}


@pytest.fixture(scope="module")
def fuzz_pg_url() -> Iterator[str]:
    """A throwaway schema in the real PostgreSQL for the module (the conftest one is per test)."""
    try:
        admin = psycopg.connect(PG_DSN, autocommit=True, connect_timeout=2)
    except psycopg.OperationalError as exc:
        require_server("PostgreSQL", False, f"{PG_DSN}: {exc}")
        raise  # unreachable: require_server skips or fails
    schema = f"vouch_fuzz_{uuid.uuid4().hex[:12]}"
    admin.execute(f'CREATE SCHEMA "{schema}"')
    try:
        yield f"{PG_DSN}?options=-csearch_path%3D{schema}"
    finally:
        admin.execute(f'DROP SCHEMA "{schema}" CASCADE')
        admin.close()


@pytest.fixture(
    scope="module", params=["sqlite", pytest.param("postgresql", marks=pytest.mark.integration)]
)
def fuzz_schema(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[schemathesis.BaseSchema]:
    # PostgreSQL refuses what SQLite stores (NUL characters in text): both are fuzzed.
    url = request.getfixturevalue("fuzz_pg_url") if request.param == "postgresql" else None
    data_dir = tmp_path_factory.mktemp("fuzz")
    app = create_app(
        Settings(data_dir=data_dir, database_url=url, redis_url=None, nats_url=None),
        relay_every_s=None,
    )
    # Loading the schema starts the app's lifespan inside schemathesis (once per app).
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    try:
        yield schema
    finally:
        shutdown_lifespans()


def _ok(response: Any, expected: int = 201) -> dict[str, Any]:
    assert response.status_code == expected, response.text
    return response.json()


@pytest.fixture(scope="module")
def fuzz_world(fuzz_schema: schemathesis.BaseSchema) -> dict[str, Any]:
    """The fuzz user's Authorization header, and ids of objects it can see (by path param)."""
    # No ``with``: the lifespan is already running under schemathesis; this client only calls.
    api = TestClient(fuzz_schema.app, client=(CLIENT_IP, 50000))
    me, headers = trusted(api)
    other, o_headers = trusted(api)
    with api.app.state.services.sessions() as db:
        db.add(RoleGrant(user_id=me["id"], role="admin", granted_by=None))
        db.commit()
    post = _ok(
        api.post("/social/posts", json={"body": "hi", "topic": POST_TOPICS[0]}, headers=headers)
    )
    listing = _ok(api.post("/marketplace/listings", json=LISTING, headers=o_headers))
    fund(api, headers, "100")
    order = _ok(
        api.post("/marketplace/orders", json={"listing_id": listing["id"]}, headers=headers)
    )
    paid = api.post(f"/marketplace/orders/{order['id']}/pay", headers={**headers, **key()})
    _ok(paid, 200)
    conversation = _ok(
        api.post("/social/conversations", json={"participant_ids": [other["id"]]}, headers=headers)
    )
    workspace = _ok(api.post("/collab/workspaces", json={"name": "w"}, headers=headers))
    project = _ok(
        api.post(
            f"/collab/workspaces/{workspace['id']}/projects", json={"name": "p"}, headers=headers
        )
    )
    task = _ok(
        api.post(f"/collab/projects/{project['id']}/tasks", json={"title": "t"}, headers=headers)
    )
    offer = _ok(api.post("/subscriptions/plans", json=PLAN, headers=o_headers))
    subscribed = api.post(
        "/subscriptions", json={"plan_id": offer["id"]}, headers={**headers, **key()}
    )
    wallet = _ok(api.get("/payments/wallets", headers=headers), 200)[0]
    entries = _ok(api.get(f"/payments/wallets/{wallet['id']}/entries", headers=headers), 200)
    ids = {
        "user_id": other["id"],
        "post_id": post["id"],
        "listing_id": listing["id"],
        "order_id": order["id"],
        "conversation_id": conversation["id"],
        "workspace_id": workspace["id"],
        "project_id": project["id"],
        "task_id": task["id"],
        "wallet_id": wallet["id"],
        "transaction_id": entries[0]["transaction_id"],
        "plan_id": offer["id"],
        "subscription_id": _ok(subscribed)["id"],
    }
    return {"user_id": me["id"], "headers": {"Authorization": headers["Authorization"]}, "ids": ids}


def _throwaway_session(app: Any, user_id: str) -> dict[str, str]:
    # Logout revokes the session it is called with; it gets its own so the others keep theirs.
    services = app.state.services
    client = Client(ip=CLIENT_IP, device=None, platform="web", user_agent=None)
    with services.sessions() as db:
        user = db.get(User, user_id)
        assert user is not None
        issued = auth.start_session(db, services.tokens, user=user, client=client)
        db.commit()
    return {"Authorization": f"Bearer {issued.access_token}"}


def _operations() -> list[str]:
    # Building the app does not touch its data dir: that happens in the lifespan.
    app = create_app(Settings(data_dir=Path("unused"), database_url=None, redis_url=None))
    return [f"{m.upper()} {p}" for p, ops in app.openapi()["paths"].items() for m in ops]


@pytest.mark.slow
@pytest.mark.parametrize("label", _operations())
def test_openapi_fuzz_no_server_errors(
    label: str, fuzz_schema: schemathesis.BaseSchema, fuzz_world: dict[str, Any]
) -> None:
    operation = fuzz_schema.find_operation_by_label(label)
    assert operation is not None
    names = {p.name for p in operation.path_parameters}
    known = {name: value for name, value in fuzz_world["ids"].items() if name in names}
    strategies = [
        operation.as_strategy(GenerationMode.POSITIVE),
        operation.as_strategy(GenerationMode.NEGATIVE),
    ]
    if known:
        strategies.append(operation.as_strategy(GenerationMode.POSITIVE, path_parameters=known))

    @given(case=st.one_of(strategies))
    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    def call(case: schemathesis.Case) -> None:
        headers = fuzz_world["headers"]
        if case.path == "/identity/logout":
            headers = _throwaway_session(operation.app, fuzz_world["user_id"])
        case.call_and_validate(headers=headers, checks=[not_a_server_error])

    call()


# Hostile JSON the generators never write (schemathesis emits valid JSON only): each token stands
# in for one field of a generated body, and a generated body gets one of its keys twice.
HOSTILE_TOKENS = ["NaN", "-Infinity", "1e400", "9" * 30, "[" * 900 + "]" * 900]


def _hostile_bodies(body: dict[str, Any]) -> list[str]:
    if not body:
        return [f'{{"x":{token}}}' for token in HOSTILE_TOKENS]
    first = next(iter(body))
    texts = [
        json.dumps({**body, first: "__HOSTILE__"}).replace('"__HOSTILE__"', token)
        for token in HOSTILE_TOKENS
    ]
    twice = json.dumps(body)[:-1] + f", {json.dumps(first)}: {json.dumps(body[first])}}}"
    return [*texts, twice]


def _body_operations() -> list[str]:
    return [label for label in _operations() if label.split()[0] in ("POST", "PUT", "PATCH")]


@pytest.mark.slow
@pytest.mark.parametrize("label", _body_operations())
def test_openapi_hostile_json_bodies_are_4xx(
    label: str, fuzz_schema: schemathesis.BaseSchema, fuzz_world: dict[str, Any]
) -> None:
    operation = fuzz_schema.find_operation_by_label(label)
    assert operation is not None
    names = {p.name for p in operation.path_parameters}
    known = {name: value for name, value in fuzz_world["ids"].items() if name in names}
    api = TestClient(fuzz_schema.app, client=(CLIENT_IP, 50000))

    @given(case=operation.as_strategy(GenerationMode.POSITIVE, path_parameters=known or None))
    @settings(
        max_examples=2,
        deadline=None,
        database=None,
        phases=[Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    def call(case: schemathesis.Case) -> None:
        body = case.body if isinstance(case.body, dict) else {}
        headers = {**fuzz_world["headers"], "Content-Type": "application/json"}
        headers["Idempotency-Key"] = f"hostile-{uuid.uuid4().hex}"
        for text in _hostile_bodies(body):
            answer = api.request(case.method, case.formatted_path, content=text, headers=headers)
            # Refused before any route runs: the same 422 for every operation and token.
            assert answer.status_code == 422, (label, text[:80], answer.text[:200])

    call()


# Each was a 500: PostgreSQL refuses NUL in text; a lone surrogate (sent as a JSON "\ud800"
# escape) cannot be encoded as UTF-8 by either database driver, nor by FastAPI's own 422.
UNSTORABLE = ["\x00", "\ud800"]
BODIES = [
    (
        "POST",
        "/identity/register",
        {"email": "a{x}@example.com", "password": "p" * 12, "display_name": "A"},
    ),
    ("POST", "/identity/login", {"email": "a{x}@example.com", "password": "p" * 12}),
    ("PATCH", "/identity/profile", {"display_name": "A{x}"}),
    ("POST", "/social/posts", {"body": "hi{x}", "topic": POST_TOPICS[0]}),
    ("POST", "/collab/workspaces", {"name": "w{x}"}),
    ("POST", "/admin/appeals", {"body": "{x}"}),
    ("POST", "/marketplace/listings", {**LISTING, "title": "{x}"}),
]


@pytest.mark.parametrize("bad", UNSTORABLE, ids=["nul", "surrogate"])
def test_unstorable_text_in_bodies_is_422_on_each_database(any_api: TestClient, bad: str) -> None:
    _, headers = signed_in(any_api)
    for method, path, template in BODIES:
        body = {k: v.replace("{x}", bad) if isinstance(v, str) else v for k, v in template.items()}
        content = json.dumps(body)  # ASCII: the surrogate travels as its "\ud800" escape
        sent = {**headers, "Content-Type": "application/json"}
        response = any_api.request(method, path, content=content, headers=sent)
        assert response.status_code == 422, (path, response.text)
        assert "lone surrogates" in response.json()["detail"][0]["msg"], path

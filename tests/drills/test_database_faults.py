"""Drill: the transactional database fails under requests: PostgreSQL drops the app's
connections mid-request, then becomes unreachable; SQLite stays locked past its busy timeout.

Promises held: the request answers a documented 503 (``Retry-After``, reason
``database_unavailable``; ``core_api.faults``), never a 500; nothing is half-written (the ledger
balances, balances are the sums of their entries, no transaction without its entries, no outbox
event without its rows, no idempotency record of a rolled-back transfer); the pool recovers and
the next requests succeed, and a retry with the same ``Idempotency-Key`` moves the money once.

The app reaches the real server through a TCP relay of the drill's own (``TcpProxy``), which
can be cut to make the database unreachable; its connections carry an ``application_name`` of
their own, so ``pg_terminate_backend`` hits the app's sessions and no one else's.
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import psycopg
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.engine import make_url

from core_api.app import create_app
from core_api.db.money import Entry, IdempotencyRecord, LedgerTransaction, Wallet
from core_api.db.outbox import OutboxRow
from core_api.db.social import Post
from settings import Settings
from tests.core_api.conftest import PG_DSN
from tests.core_api.routers.helpers import signed_in
from tests.core_api.routers.money_helpers import assert_ledger_consistent, balance, fund, trusted
from tests.drills.servers import TcpProxy, wait_until

pytestmark = [pytest.mark.integration, pytest.mark.drill, pytest.mark.timeout(90)]


@dataclass
class Drill:
    api: TestClient
    app_name: str  # the application_name of every connection of the app
    proxy: TcpProxy
    admin: psycopg.Connection
    schema_options: str  # libpq options of a direct connection to the test schema

    def backends(self, *, waiting_on_lock: bool = False) -> list[int]:
        sql = "SELECT pid FROM pg_stat_activity WHERE application_name = %s"
        if waiting_on_lock:
            sql += " AND wait_event_type = 'Lock'"
        return [r[0] for r in self.admin.execute(sql, (self.app_name,)).fetchall()]

    def terminate_all(self) -> int:
        pids = self.backends()
        for pid in pids:
            self.admin.execute("SELECT pg_terminate_backend(%s)", (pid,))
        return len(pids)


@pytest.fixture
def drill(pg_settings: Settings) -> Iterator[Drill]:
    url = make_url(pg_settings.database_url or "")
    proxy = TcpProxy((url.host or "127.0.0.1", url.port or 5432))
    proxy.start()
    app_name = f"vouch-drill-{uuid.uuid4().hex[:10]}"
    through = url.set(port=proxy.port).update_query_dict({"application_name": app_name})
    settings = pg_settings.model_copy(
        update={"database_url": through.render_as_string(hide_password=False)}
    )
    admin = psycopg.connect(PG_DSN, autocommit=True, application_name="vouch-drill-admin")
    schema = dict(url.query)["options"]
    try:
        app = create_app(settings, relay_every_s=None)
        with TestClient(app, raise_server_exceptions=False) as api:
            yield Drill(api, app_name, proxy, admin, schema)
    finally:
        proxy.cut()
        admin.close()


@pytest.fixture
def api_sqlite(sqlite_settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(sqlite_settings, relay_every_s=None)) as api:
        yield api


def _transfer(drill: Drill, headers: dict[str, str], to: str, key: str) -> Any:
    body = {"to_user_id": to, "amount": "10.00", "currency": "EUR"}
    return drill.api.post(
        "/payments/transfers", json=body, headers={**headers, "Idempotency-Key": key}
    )


def _burst(api: TestClient, headers: dict[str, str]) -> list[int]:
    """Twelve reads, six at a time: the pool lends (and keeps) several connections."""

    def read(_: int) -> int:
        return api.get("/payments/wallets", headers=headers).status_code

    with ThreadPoolExecutor(max_workers=6) as pool:
        return list(pool.map(read, range(12)))


def _nothing_half_written(api: TestClient) -> tuple[int, int]:
    """The ledger's invariants, and (transfers, TRANSFER_SENT events), which must be equal."""
    assert_ledger_consistent(api)
    with api.app.state.services.sessions() as s:
        bare = select(LedgerTransaction.id).where(
            ~select(Entry.id).where(Entry.transaction_id == LedgerTransaction.id).exists()
        )
        assert s.scalars(bare).all() == []
        transfers = set(
            s.scalars(select(LedgerTransaction.id).where(LedgerTransaction.kind == "transfer"))
        )
        sent = s.scalars(select(OutboxRow.line).where(OutboxRow.event_type == "TRANSFER_SENT"))
        said = [json.loads(line)["payload"]["transfer_id"] for line in sent]
        assert sorted(said) == sorted(transfers)  # each event with its rows, each row its event
        for answer in s.scalars(select(IdempotencyRecord.response)):
            assert s.get(LedgerTransaction, json.loads(answer)["id"]) is not None
        wallets = s.scalar(select(func.count()).select_from(Wallet))
    return len(transfers), wallets


def test_connection_terminated_mid_transfer_answers_503_and_half_writes_nothing(
    drill: Drill,
) -> None:
    api = drill.api
    sender, hs = trusted(api)
    recipient, _ = trusted(api)
    fund(api, hs, "100.00")
    assert _burst(api, hs) == [200] * 12  # several connections into the pool
    key = f"k-{uuid.uuid4().hex}"
    answer: dict[str, Any] = {}
    # Another session holds the sender's wallet: the transfer blocks in SELECT ... FOR UPDATE.
    with psycopg.connect(
        PG_DSN, options=drill.schema_options, application_name="vouch-drill-locker"
    ) as locker:
        locker.execute(
            "SELECT id FROM wallets WHERE owner_id = %s FOR UPDATE", (sender["id"],)
        ).fetchall()
        request = threading.Thread(
            target=lambda: answer.update(r=_transfer(drill, hs, recipient["id"], key))
        )
        request.start()
        wait_until(lambda: drill.backends(waiting_on_lock=True), timeout_s=15, what="the lock wait")
        terminated = drill.terminate_all()  # the blocked one and the idle ones in the pool
        request.join(timeout=30)
        locker.rollback()
    response = answer["r"]
    assert response.status_code == 503, response.text
    assert response.json() == {"detail": {"reason": "database_unavailable"}}
    assert int(response.headers["Retry-After"]) > 0
    assert balance(api, sender["id"]) == Decimal("100.0000")
    assert _nothing_half_written(api)[0] == 0

    # The pool recovers: every request after gets a good connection (the pool pings each one
    # before lending it); the retry with the same key moves the money once.
    assert _burst(api, hs) == [200] * 12
    started = time.monotonic()
    retried = _transfer(drill, hs, recipient["id"], key)
    recovered_s = time.monotonic() - started
    assert retried.status_code == 201, retried.text
    replayed = _transfer(drill, hs, recipient["id"], key)
    assert replayed.status_code == 201 and replayed.headers["Idempotent-Replayed"] == "true"
    assert replayed.json()["id"] == retried.json()["id"]
    assert (balance(api, sender["id"]), balance(api, recipient["id"])) == (
        Decimal("90.0000"),
        Decimal("10.0000"),
    )
    assert _nothing_half_written(api)[0] == 1
    print(f"\n{terminated} app sessions terminated; the retry answered in {recovered_s:.3f}s")


def test_database_unreachable_answers_503_then_recovers(drill: Drill) -> None:
    api = drill.api
    sender, hs = trusted(api)
    recipient, hr = trusted(api)
    fund(api, hs, "100.00")
    drill.proxy.cut()  # refused: no route to the database at all
    down = {
        "me": api.get("/identity/me", headers=hs),
        "wallets": api.get("/payments/wallets", headers=hs),
        "transfer": _transfer(drill, hs, recipient["id"], f"k-{uuid.uuid4().hex}"),
        "post": api.post("/social/posts", json={"body": "x", "topic": "tech"}, headers=hr),
        "login": api.post(
            "/identity/login", json={"email": sender["email"], "password": "correct horse battery"}
        ),
    }
    for name, response in down.items():
        assert response.status_code == 503, (name, response.status_code, response.text)
        assert response.json()["detail"]["reason"] == "database_unavailable", name
        assert "Retry-After" in response.headers, name
    drill.proxy.start()
    back = time.monotonic()
    while api.get("/identity/me", headers=hs).status_code != 200:
        assert time.monotonic() - back < 5, "the pool did not recover"
        time.sleep(0.05)
    recovered_s = time.monotonic() - back
    done = _transfer(drill, hs, recipient["id"], f"k-{uuid.uuid4().hex}")
    assert done.status_code == 201, done.text
    assert _nothing_half_written(api)[0] == 1
    print(f"\nPostgreSQL reachable again: first 200 after {recovered_s:.3f}s")


def test_sqlite_locked_past_its_busy_timeout_answers_503(api_sqlite: TestClient) -> None:
    """The embedded database: another writer holds the file past the 5 s busy timeout."""
    api = api_sqlite
    _, headers = signed_in(api)
    path = api.app.state.services.settings.data_dir / "core.sqlite"
    holder = sqlite3.connect(path, isolation_level=None)
    try:
        holder.execute("BEGIN IMMEDIATE")  # the write lock, held
        post = {"body": "while locked", "topic": "tech"}
        locked = api.post("/social/posts", json=post, headers=headers)
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert locked.status_code == 503, locked.text
    assert locked.json()["detail"]["reason"] == "database_unavailable"
    assert "Retry-After" in locked.headers
    created = select(func.count()).where(OutboxRow.event_type == "POST_CREATED")
    with api.app.state.services.sessions() as s:
        assert (s.scalar(select(func.count()).select_from(Post)), s.scalar(created)) == (0, 0)
    assert api.post("/social/posts", json=post, headers=headers).status_code == 201

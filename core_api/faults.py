"""The transactional database failing under a request: a documented 503, never a 500.

When PostgreSQL drops the request's connection (a restart, a failover, ``pg_terminate_backend``),
refuses new ones, or the pool has no connection to give within its timeout, the request answers

    503 Service Unavailable, Retry-After: 2, {"detail": {"reason": "database_unavailable"}}

The request's transaction is rolled back by the database with the connection, so nothing of it
is half-written: a transfer's rows, its entries, its outbox event and its idempotency record
commit together or not at all, and a client that retries with the same ``Idempotency-Key``
moves the money once. The pool checks a connection before lending it (``pool_pre_ping``), so
the requests after a dropped connection get a fresh one; once the database is back they
succeed. SQLite's ``database is locked`` (a writer held it past the busy timeout) is the same
kind of fault and gets the same answer.
"""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request, status
from fastapi.responses import JSONResponse
from sqlalchemy.exc import InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout

RETRY_AFTER_S = 2
REASON = "database_unavailable"
log = logging.getLogger(__name__)


async def database_unavailable(request: Request, exc: Exception) -> JSONResponse:
    log.warning("database unavailable during %s %s: %s", request.method, request.url.path, exc)
    return JSONResponse(
        {"detail": {"reason": REASON}},
        status_code=status.HTTP_503_SERVICE_UNAVAILABLE,
        headers={"Retry-After": str(RETRY_AFTER_S)},
    )


def register(app: FastAPI) -> None:
    """Answer the database's faults with 503 (``IntegrityError`` keeps its own 409)."""
    for fault in (OperationalError, InterfaceError, PoolTimeout):
        app.add_exception_handler(fault, database_unavailable)

"""Liveness and readiness, for a load balancer or an orchestrator's probes.

``/health`` answers as long as the process serves HTTP (restart it when this fails); ``/ready``
checks what a request needs, the transactional database, the online store and the event sink, and
answers 503 naming the part that failed (route no traffic here until it passes). Neither needs a
token, and neither says more than ok/failed and the error's kind.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Literal

from fastapi import APIRouter, Response, status
from pydantic import BaseModel
from sqlalchemy import text

from core_api.deps import Services, ServicesDep

router = APIRouter(tags=["health"])


class Check(BaseModel):
    ok: bool
    ms: float
    error: str | None = None  # the exception's class name only


class Health(BaseModel):
    status: Literal["ok"] = "ok"


class Readiness(BaseModel):
    status: Literal["ready", "not_ready"]
    checks: dict[str, Check]


@router.get("/health", response_model=Health, summary="Liveness: the process answers")
def health() -> Health:
    return Health()


def _database(services: Services) -> None:
    with services.engine.connect() as connection:
        connection.execute(text("SELECT 1"))


def _online_store(services: Services) -> None:
    services.store.versions()  # reads the published pointer: the first thing a decision needs


def _event_sink(services: Services) -> None:
    ready = getattr(services.sink, "ready", None)
    if ready is not None:
        ready()


CHECKS: dict[str, Callable[[Services], None]] = {
    "database": _database,
    "online_store": _online_store,
    "event_sink": _event_sink,
}


@router.get(
    "/ready",
    response_model=Readiness,
    summary="Readiness: database, online store and event sink reachable",
    responses={503: {"model": Readiness, "description": "a dependency failed its check"}},
)
def ready(services: ServicesDep, response: Response) -> Readiness:
    checks = {}
    for name, check in CHECKS.items():
        started = time.perf_counter()
        try:
            check(services)
            error = None
        except Exception as exc:  # a probe reports every failure rather than raising it
            error = type(exc).__name__
        ms = round((time.perf_counter() - started) * 1000, 2)
        checks[name] = Check(ok=error is None, ms=ms, error=error)
    if all(c.ok for c in checks.values()):
        return Readiness(status="ready", checks=checks)
    response.status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    return Readiness(status="not_ready", checks=checks)

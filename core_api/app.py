"""The FastAPI application factory.

``create_app(settings)`` wires one set of services per app: the database engine (migrated to
head at start-up), the access decider over the online store, the token signer and the outbox
relay. Tests pass their own settings; ``vouch api`` and uvicorn use the cached ``get_settings()``.
"""

from __future__ import annotations

import json
import logging
import math
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, Request, status
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import IntegrityError

from core_api import console, docs, faults
from core_api.body_guard import StrictJSONMiddleware
from core_api.db.engine import make_engine, make_sessionmaker, upgrade
from core_api.deps import Services
from core_api.routers import (
    admin,
    collab,
    credit,
    disputes,
    escrows,
    files,
    groups,
    health,
    identity,
    marketplace,
    messages,
    notifications,
    payments,
    post_edits,
    profile,
    review,
    safety,
    social,
    subscriptions,
    tasks,
    trust,
    verify,
    webhooks,
)
from core_api.services.enforce import configure_log as configure_decision_log
from core_api.services.outbox import relay_pending, sink_for
from core_api.services.security import Tokens, load_secret
from serving.decide import Decider
from serving.feed import open_feed
from serving.rules import default_rules, load_rules
from serving.store import open_store
from settings import Settings, get_settings

log = logging.getLogger(__name__)


def build_services(settings: Settings) -> Services:
    engine = make_engine(settings)
    rules = load_rules(settings.rules_path) if settings.rules_path else default_rules()
    store = open_store(settings)
    return Services(
        settings=settings,
        engine=engine,
        sessions=make_sessionmaker(engine),
        store=store,
        decider=Decider(store, rules=rules),
        tokens=Tokens(load_secret(settings)),
        sink=sink_for(settings),
        feed=open_feed(settings),
    )


class _Relay(threading.Thread):
    """Delivers the outbox every few seconds; a failed round is retried on the next one."""

    def __init__(self, services: Services, *, every_s: float) -> None:
        super().__init__(name="outbox-relay", daemon=True)
        self.services, self.every_s, self.stopping = services, every_s, threading.Event()

    def run(self) -> None:
        while not self.stopping.wait(self.every_s):
            try:
                relay_pending(self.services.sessions, self.services.sink)
            except Exception:
                log.exception("outbox relay round failed")

    def stop(self) -> None:
        self.stopping.set()
        self.join(timeout=10)
        relay_pending(self.services.sessions, self.services.sink)  # flush what is committed


def create_app(settings: Settings | None = None, *, relay_every_s: float | None = 2.0) -> FastAPI:
    """``relay_every_s=None`` leaves delivery to the caller (tests call ``relay_pending``)."""
    settings = settings or get_settings()
    configure_decision_log()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        services = build_services(settings)
        upgrade(services.engine)
        app.state.services = services
        relay = _Relay(services, every_s=relay_every_s) if relay_every_s else None
        if relay:
            relay.start()
        try:
            yield
        finally:
            if relay:
                relay.stop()
            services.store.close()
            services.feed.close()
            close_sink = getattr(services.sink, "close", None)  # JetStream holds a connection
            if close_sink is not None:
                close_sink()
            services.engine.dispose()

    app = FastAPI(
        title="Vouch core API",
        version="0.1.0",
        description=docs.DESCRIPTION,
        lifespan=lifespan,
        docs_url=None,  # docs.install serves them without a CDN
        redoc_url=None,
    )
    docs.install(app)
    for module in (
        health,
        identity,
        profile,
        verify,
        social,
        messages,
        notifications,
        trust,
        payments,
        subscriptions,
        marketplace,
        credit,
        collab,
        tasks,
        files,
        escrows,
        post_edits,
        groups,
        admin,
        disputes,
        review,
        safety,
        webhooks,
    ):
        app.include_router(module.router)
    console.install(app)  # the analyst console's pages under /review
    app.add_middleware(StrictJSONMiddleware)
    app.add_exception_handler(IntegrityError, _conflict)
    app.add_exception_handler(RequestValidationError, _invalid)
    faults.register(app)
    return app


async def _conflict(_request: Request, exc: Exception) -> JSONResponse:
    # A uniqueness race the handler's own check could not see (two requests at once).
    log.info("integrity conflict: %s", exc)
    return JSONResponse({"detail": {"reason": "conflict"}}, status_code=status.HTTP_409_CONFLICT)


class _AsciiJSONResponse(JSONResponse):
    def render(self, content: object) -> bytes:
        text = json.dumps(content, ensure_ascii=True, allow_nan=False, separators=(",", ":"))
        return text.encode()


async def _invalid(_request: Request, exc: Exception) -> JSONResponse:
    # FastAPI's own 422 echoes the input, and its UTF-8 rendering fails (a 500) when that input
    # holds a lone surrogate (a JSON "\ud800" escape); ASCII JSON escapes it instead. A query
    # parameter may still bring a non-finite float ("?x=nan"): echoed as text, not a NaN token.
    assert isinstance(exc, RequestValidationError)
    errors = _finite(jsonable_encoder(exc.errors()))
    return _AsciiJSONResponse({"detail": errors}, status_code=status.HTTP_422_UNPROCESSABLE_CONTENT)


def _finite(value: Any) -> Any:
    # Error structures are shallow (a body is at most MAX_DEPTH deep), so recursion is safe here.
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    if isinstance(value, list):
        return [_finite(v) for v in value]
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    return value

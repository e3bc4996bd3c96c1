"""The analyst console: server-rendered pages under ``/review`` for the ``analyst``,
``senior_analyst`` and ``admin`` roles (queue, case, decisions and notes, a linked user without
a case, metrics), over the review service (``core_api.services.review``). ``install(app)``
adds it to the core API."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from core_api.console.pages import auth as pages_auth
from core_api.console.pages import case as pages_case
from core_api.console.pages import metrics as pages_metrics
from core_api.console.pages import queue as pages_queue
from core_api.console.pages import user as pages_user
from core_api.console.web import HANDLERS, HERE, PREFIX, ConsoleHeaders


def install(app: FastAPI) -> None:
    for module in (pages_auth, pages_queue, pages_case, pages_user, pages_metrics):
        app.include_router(module.router, prefix=PREFIX, include_in_schema=False)
    app.mount(f"{PREFIX}/static", StaticFiles(directory=HERE / "static"), name="review-static")
    for exc, handler in HANDLERS.items():
        app.add_exception_handler(exc, handler)
    app.add_middleware(ConsoleHeaders)

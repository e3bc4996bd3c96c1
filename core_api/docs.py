"""The API's documentation pages, served entirely by the app: ``/docs`` (Swagger UI) and
``/redoc`` load their scripts and styles from ``/docs-static``, a copy shipped in the
fastapi-offline wheel (Swagger UI 5, which reads FastAPI's OpenAPI 3.1, and ReDoc), so they render
on a machine without internet, where FastAPI's defaults fetch them from a CDN and stay blank.
"""

from __future__ import annotations

from importlib.resources import files

from fastapi import FastAPI
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

STATIC = "/docs-static"

DESCRIPTION = """
Vouch's core API: identity, social, marketplace, payments and collaboration, each critical action
decided per request from the published risk scores and the access rules.

**Device fingerprint.** Send `X-Device-Fingerprint` (a stable, opaque id of the device: 1-128
letters, digits, `.`, `_`, `:`, `-`) on every request. The access rules use it to tell a
known device from a new one (a new device plus a critical action asks for a second factor), the
risk model links accounts that share one, and it is recorded on the events a request emits.
Without it a request counts as coming from an unknown device.

**Step-up (second factor).** A critical action (an order, a payout, a transfer, a listing, a trust
link, an analyst's ban) may answer **401** with

    WWW-Authenticate: Bearer error="insufficient_user_authentication",
        error_description="<action> needs a fresh second factor", acr_values="mfa", max_age=<s>

and a body `{"detail": {"reason", "reasons", "action"}}` (RFC 9470). The client then:

1. `POST /identity/mfa/challenge`: a one-time code goes to the user's verified phone or e-mail;
2. `POST /identity/mfa/verify` with `{"code": ...}`: answers a new access token whose session has
   a fresh second factor (valid for `max_age` seconds);
3. retries the original request with that token (same `X-Device-Fingerprint`).

**403** means denied (the reason code says why); **429** means rate limited, with `Retry-After`.
When the online store is unreachable, low-risk actions are allowed and critical ones step up:
never an error.

**Probes.** `GET /health` (liveness) and `GET /ready` (database, online store, event sink).
"""


def install(app: FastAPI) -> None:
    """Add ``/docs``, ``/redoc`` and their assets to an app created with ``docs_url=None``."""
    static = files("fastapi_offline") / "static"
    app.mount(STATIC, StaticFiles(directory=str(static)), name="docs-static")
    openapi_url = app.openapi_url or "/openapi.json"

    @app.get("/docs", include_in_schema=False)
    def swagger_ui() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url=openapi_url,
            title=f"{app.title} - docs",
            swagger_js_url=f"{STATIC}/swagger-ui-bundle.js",
            swagger_css_url=f"{STATIC}/swagger-ui.css",
            swagger_favicon_url=f"{STATIC}/favicon.png",
        )

    @app.get("/redoc", include_in_schema=False)
    def redoc() -> HTMLResponse:
        return get_redoc_html(
            openapi_url=openapi_url,
            title=f"{app.title} - ReDoc",
            redoc_js_url=f"{STATIC}/redoc.standalone.js",
            redoc_favicon_url=f"{STATIC}/favicon.png",
            with_google_fonts=False,
        )

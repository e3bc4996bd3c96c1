"""/docs and /redoc render from the app's own assets: nothing loaded from another host."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient


def test_docs_pages_load_only_assets_the_app_serves(api: TestClient) -> None:
    for page in ("/docs", "/redoc"):
        html = api.get(page).text
        sources = re.findall(r'(?:src|href)="([^"]+)"', html) + re.findall(r"url: '([^']+)'", html)
        assert sources, page
        assert not [s for s in sources if s.startswith(("http:", "https:", "//"))], sources
        for source in sources:
            if source.startswith("/docs-static/"):
                asset = api.get(source)
                assert asset.status_code == 200 and len(asset.content) > 1000, source


def test_openapi_documents_the_fingerprint_header_and_the_step_up(api: TestClient) -> None:
    spec = api.get("/openapi.json").json()
    assert "Step-up" in spec["info"]["description"]
    assert "/identity/mfa/challenge" in spec["info"]["description"]
    headers = [
        p
        for op in spec["paths"]["/identity/mfa/verify"].values()
        for p in op.get("parameters", [])
        if p["in"] == "header" and p["name"].lower() == "x-device-fingerprint"
    ]
    assert headers and "new one" in headers[0]["description"]
    assert {"/health", "/ready"} <= set(spec["paths"])

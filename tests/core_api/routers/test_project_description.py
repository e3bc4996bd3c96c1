from __future__ import annotations

from fastapi.testclient import TestClient

from tests.core_api.routers.helpers import signed_in


def test_a_project_keeps_its_description(any_api: TestClient) -> None:
    _, h = signed_in(any_api)
    ws = any_api.post("/collab/workspaces", json={"name": "w"}, headers=h).json()["id"]
    url = f"/collab/workspaces/{ws}/projects"
    made = any_api.post(url, json={"name": "p", "description": "Q1 launch"}, headers=h)
    assert made.status_code == 201 and made.json()["description"] == "Q1 launch"
    plain = any_api.post(url, json={"name": "q"}, headers=h).json()
    assert plain["description"] == ""
    listed = any_api.get(url, headers=h).json()
    assert [p["description"] for p in listed] == ["Q1 launch", ""]

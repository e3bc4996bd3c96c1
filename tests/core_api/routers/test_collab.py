from __future__ import annotations

import json
from typing import Any

from fastapi.testclient import TestClient

from tests.core_api.routers.helpers import events, signed_in

H = dict[str, str]


def _workspace(api: TestClient, headers: H) -> str:
    made = api.post("/collab/workspaces", json={"name": " Team ", "plan": "team"}, headers=headers)
    assert made.status_code == 201, made.text
    assert made.json()["my_role"] == "owner" and made.json()["name"] == "Team"
    return made.json()["id"]


def _add(api: TestClient, headers: H, ws: str, user_id: str, role: str) -> Any:
    return api.put(
        f"/collab/workspaces/{ws}/members/{user_id}", json={"role": role}, headers=headers
    )


def _team(api: TestClient) -> tuple[str, dict[str, tuple[dict[str, Any], H]]]:
    people = {role: signed_in(api) for role in ("owner", "admin", "member", "viewer", "outsider")}
    ws = _workspace(api, people["owner"][1])
    for role in ("admin", "member", "viewer"):
        assert _add(api, people["owner"][1], ws, people[role][0]["id"], role).status_code == 201
    return ws, people


def test_roles_gate_every_collab_call_on_each_database(any_api: TestClient) -> None:
    ws, people = _team(any_api)
    h = {role: headers for role, (_, headers) in people.items()}
    project = any_api.post(
        f"/collab/workspaces/{ws}/projects", json={"name": "P"}, headers=h["admin"]
    )
    assert project.status_code == 201
    pid = project.json()["id"]
    assert any_api.post(
        f"/collab/workspaces/{ws}/projects", json={"name": "Q"}, headers=h["member"]
    ).json()["detail"] == {"reason": "role_required", "role": "admin"}
    task = any_api.post(f"/collab/projects/{pid}/tasks", json={"title": "T"}, headers=h["member"])
    assert task.status_code == 201
    tid = task.json()["id"]
    viewer_write = any_api.post(
        f"/collab/projects/{pid}/tasks", json={"title": "V"}, headers=h["viewer"]
    )
    assert viewer_write.status_code == 403
    assert (
        any_api.patch(
            f"/collab/tasks/{tid}", json={"status": "done"}, headers=h["viewer"]
        ).status_code
        == 403
    )
    for role in ("owner", "admin", "member", "viewer"):  # everyone inside reads
        assert any_api.get(f"/collab/projects/{pid}/tasks", headers=h[role]).status_code == 200
        assert any_api.get(f"/collab/tasks/{tid}", headers=h[role]).status_code == 200
    moved = any_api.patch(
        f"/collab/tasks/{tid}",
        json={"status": "in_progress", "assignee_id": people["member"][0]["id"]},
        headers=h["member"],
    )
    assert moved.status_code == 200 and moved.json()["status"] == "in_progress"
    updated = [json.loads(e.line) for e in events(any_api, "TASK_UPDATED")]
    assert [(u["subject_id"], u["payload"]) for u in updated] == [
        (
            tid,
            {
                "project_id": pid,
                "task_status": "in_progress",
                "assignee_id": people["member"][0]["id"],
            },
        ),
    ]
    # Member management is the admin's; deleting the workspace is the owner's alone.
    newcomer, _ = signed_in(any_api)
    assert _add(any_api, h["member"], ws, newcomer["id"], "viewer").status_code == 403
    assert _add(any_api, h["admin"], ws, newcomer["id"], "viewer").status_code == 201
    assert any_api.delete(f"/collab/workspaces/{ws}", headers=h["admin"]).status_code == 403
    assert any_api.delete(f"/collab/workspaces/{ws}", headers=h["owner"]).status_code == 204
    assert any_api.get(f"/collab/tasks/{tid}", headers=h["owner"]).status_code == 404
    kinds = {e.event_type for e in events(any_api)}
    assert {
        "WORKSPACE_CREATED",
        "WORKSPACE_MEMBER_ADDED",
        "PROJECT_CREATED",
        "TASK_CREATED",
    } <= kinds


def test_outsider_cannot_read_or_change_another_workspace(api: TestClient) -> None:
    ws, people = _team(api)
    owner_h, out_h = people["owner"][1], people["outsider"][1]
    pid = api.post(f"/collab/workspaces/{ws}/projects", json={"name": "P"}, headers=owner_h).json()[
        "id"
    ]
    tid = api.post(f"/collab/projects/{pid}/tasks", json={"title": "T"}, headers=owner_h).json()[
        "id"
    ]
    probes = [
        api.get(f"/collab/workspaces/{ws}", headers=out_h),
        api.patch(f"/collab/workspaces/{ws}", json={"name": "mine"}, headers=out_h),
        api.delete(f"/collab/workspaces/{ws}", headers=out_h),
        api.get(f"/collab/workspaces/{ws}/members", headers=out_h),
        _add(api, out_h, ws, people["outsider"][0]["id"], "owner"),  # self-invite
        api.post(f"/collab/workspaces/{ws}/projects", json={"name": "X"}, headers=out_h),
        api.get(f"/collab/projects/{pid}", headers=out_h),
        api.post(f"/collab/projects/{pid}/tasks", json={"title": "X"}, headers=out_h),
        api.patch(f"/collab/tasks/{tid}", json={"status": "done"}, headers=out_h),
        api.delete(f"/collab/tasks/{tid}", headers=out_h),
    ]
    assert [p.status_code for p in probes] == [404] * len(probes)
    assert api.get("/collab/workspaces", headers=out_h).json() == []
    assert api.get(f"/collab/tasks/{tid}", headers=owner_h).json()["status"] == "todo"


def test_owners_are_made_and_kept_by_owners(api: TestClient) -> None:
    ws, people = _team(api)
    owner, owner_h = people["owner"]
    admin, admin_h = people["admin"]
    assert _add(api, admin_h, ws, admin["id"], "owner").status_code == 403  # no self-promotion
    assert _add(api, admin_h, ws, owner["id"], "viewer").status_code == 403
    assert (
        api.delete(f"/collab/workspaces/{ws}/members/{owner['id']}", headers=admin_h).status_code
        == 403
    )
    assert _add(api, owner_h, ws, owner["id"], "admin").status_code == 409  # the last owner
    assert (
        api.delete(f"/collab/workspaces/{ws}/members/{owner['id']}", headers=owner_h).status_code
        == 409
    )
    assert _add(api, owner_h, ws, admin["id"], "owner").status_code == 200
    assert _add(api, owner_h, ws, owner["id"], "member").status_code == 200  # another owner now
    member, member_h = people["member"]
    assert (
        api.delete(f"/collab/workspaces/{ws}/members/{member['id']}", headers=member_h).status_code
        == 204
    )
    assert api.get(f"/collab/workspaces/{ws}", headers=member_h).status_code == 404


def test_task_updates_validate_and_only_changes_are_events(api: TestClient) -> None:
    ws, people = _team(api)
    h = people["member"][1]
    pid = api.post(
        f"/collab/workspaces/{ws}/projects", json={"name": "P"}, headers=people["owner"][1]
    ).json()["id"]
    tid = api.post(f"/collab/projects/{pid}/tasks", json={"title": "T"}, headers=h).json()["id"]
    outsider = people["outsider"][0]["id"]
    cases = [
        ({"status": "finished"}, 422),
        ({"title": None}, 422),
        ({"title": ""}, 422),
        ({"assignee_id": outsider}, 422),  # assignees come from the workspace
        ({"project_id": pid}, 422),
    ]
    for body, code in cases:
        assert api.patch(f"/collab/tasks/{tid}", json=body, headers=h).status_code == code, body
    assert api.patch(f"/collab/tasks/{tid}", json={"title": "T"}, headers=h).status_code == 200
    assert not events(api, "TASK_UPDATED")  # nothing changed
    assert (
        api.patch(f"/collab/tasks/{tid}", json={"status": "blocked"}, headers=h).status_code == 200
    )
    assert len(events(api, "TASK_UPDATED")) == 1
    assert (
        api.post("/collab/workspaces", json={"name": "x", "plan": "gold"}, headers=h).status_code
        == 422
    )
    assert api.get("/collab/workspaces/not-a-uuid", headers=h).status_code == 422

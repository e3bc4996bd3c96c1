"""Attachments on both databases: limits (413, 415, 409), types read from the bytes, and access
exactly like the parent's (others' files answer 404)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from core_api.app import create_app
from settings import Settings
from tests.core_api.conftest import CLIENT_IP
from tests.core_api.routers.helpers import events, signed_in
from tests.core_api.routers.money_helpers import trusted

H = dict[str, str]
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
PDF = b"%PDF-1.7\n" + b"x" * 40
MAX = 1024
LISTING = {
    "title": "Lamp",
    "category": "home",
    "item_condition": "used",
    "price": "5",
    "currency": "EUR",
    "quantity": 1,
    "lat": 1.0,
    "lon": 2.0,
}


@pytest.fixture
def files_api(any_settings: Settings) -> Iterator[TestClient]:
    settings = any_settings.model_copy(update={"files_max_bytes": MAX, "files_per_parent": 3})
    with TestClient(create_app(settings, relay_every_s=None), client=(CLIENT_IP, 50000)) as c:
        yield c


def _put(api: TestClient, url: str, headers: H, data: bytes = PNG, **part: Any) -> Any:
    name, media = part.get("name", "photo.png"), part.get("media", "image/png")
    return api.post(url, files={"file": (name, data, media)}, headers=headers)


def _task(api: TestClient) -> tuple[str, dict[str, tuple[dict[str, Any], H]]]:
    people = {role: signed_in(api) for role in ("owner", "admin", "member", "viewer", "outsider")}
    owner = people["owner"][1]
    ws = api.post("/collab/workspaces", json={"name": "w"}, headers=owner).json()["id"]
    for role in ("admin", "member", "viewer"):
        added = api.put(
            f"/collab/workspaces/{ws}/members/{people[role][0]['id']}",
            json={"role": role},
            headers=owner,
        )
        assert added.status_code == 201
    project = api.post(f"/collab/workspaces/{ws}/projects", json={"name": "p"}, headers=owner)
    tasks = f"/collab/projects/{project.json()['id']}/tasks"
    task = api.post(tasks, json={"title": "t"}, headers=owner)
    return task.json()["id"], people


def test_task_files_follow_the_workspace_roles(files_api: TestClient) -> None:
    task_id, people = _task(files_api)
    url = f"/files/tasks/{task_id}"
    made = _put(files_api, url, people["member"][1], name="../../etc/passwd.png")
    assert made.status_code == 201, made.text
    info = made.json()
    assert (info["parent_type"], info["parent_id"], info["content_type"]) == (
        "task",
        task_id,
        "image/png",
    )
    assert info["size_bytes"] == len(PNG) and info["name"] == "passwd.png"
    viewer, outsider = people["viewer"][1], people["outsider"][1]
    assert [f["id"] for f in files_api.get(url, headers=viewer).json()] == [info["id"]]
    got = files_api.get(f"/files/{info['id']}/content", headers=viewer)
    assert got.status_code == 200 and got.content == PNG
    assert got.headers["content-type"] == "image/png"
    assert got.headers["content-disposition"].startswith("attachment;")
    assert got.headers["x-content-type-options"] == "nosniff"
    # Outsiders learn nothing: the same 404 as for an absent file.
    for answer in (
        files_api.get(url, headers=outsider),
        files_api.get(f"/files/{info['id']}", headers=outsider),
        files_api.get(f"/files/{info['id']}/content", headers=outsider),
        files_api.delete(f"/files/{info['id']}", headers=outsider),
        _put(files_api, url, outsider),
    ):
        assert answer.status_code == 404, answer.text
    assert _put(files_api, url, viewer).status_code == 403  # viewers read, members attach
    [event] = [json.loads(e.line) for e in events(files_api, "FILE_ATTACHED")]
    assert event["subject_id"] == info["id"] and event["actor_id"] == people["member"][0]["id"]
    assert event["payload"] == {
        "attached_to": "task",
        "parent_id": task_id,
        "media_type": "image/png",
        "size_bytes": len(PNG),
        "content_sha256": info["sha256"],
    }


def test_only_the_uploader_or_a_workspace_admin_deletes(files_api: TestClient) -> None:
    task_id, people = _task(files_api)
    url = f"/files/tasks/{task_id}"
    first = _put(files_api, url, people["member"][1]).json()["id"]
    second = _put(files_api, url, people["member"][1]).json()["id"]
    assert files_api.delete(f"/files/{first}", headers=people["viewer"][1]).status_code == 403
    assert files_api.delete(f"/files/{first}", headers=people["member"][1]).status_code == 204
    assert files_api.delete(f"/files/{second}", headers=people["admin"][1]).status_code == 204
    for file_id in (first, second):
        assert files_api.get(f"/files/{file_id}", headers=people["owner"][1]).status_code == 404
    assert files_api.get(url, headers=people["owner"][1]).json() == []
    stored = files_api.app.state.services.settings.files
    assert not any(p.is_file() for p in stored.rglob("*"))  # the bytes went with the rows


def test_limits_answer_413_415_409_and_422_never_500(files_api: TestClient) -> None:
    task_id, people = _task(files_api)
    url, h = f"/files/tasks/{task_id}", people["member"][1]
    big = _put(files_api, url, h, PNG + b"\x00" * MAX)
    assert big.status_code == 413 and big.json()["detail"]["max_bytes"] == MAX
    huge = _put(files_api, url, h, PNG + b"\x00" * (200 * MAX))  # past the framing allowance
    assert huge.status_code == 413
    exe = _put(files_api, url, h, b"MZ\x90\x00\x03\x00\x00\x00", name="a.png")
    assert (exe.status_code, exe.json()["detail"]["reason"]) == (415, "unsupported_type")
    lie = _put(files_api, url, h, b"just text", name="x.png", media="image/png")
    assert (lie.status_code, lie.json()["detail"]["reason"]) == (415, "declared_type_mismatch")
    assert _put(files_api, url, h, b"", name="e.txt", media="text/plain").status_code == 422
    no_file = files_api.post(url, files={"note": (None, "no file")}, headers=h)  # a plain field
    assert (no_file.status_code, no_file.json()["detail"]["reason"]) == (422, "file_part_expected")
    assert files_api.post(url, data={"note": "x"}, headers=h).status_code == 415  # not multipart
    assert files_api.post(url, json={"file": "x"}, headers=h).status_code == 415
    garbled = {**h, "Content-Type": "multipart/form-data; boundary=zz"}
    assert files_api.post(url, content=b"--zz\r\nnonsense", headers=garbled).status_code == 422
    # Types are read from the bytes: a PDF declared as octet-stream is stored as a PDF.
    pdf = _put(files_api, url, h, PDF, name="doc", media="application/octet-stream")
    assert pdf.json()["content_type"] == "application/pdf"
    assert _put(files_api, url, h, b"notes\n", name="n.txt", media="text/plain").status_code == 201
    assert _put(files_api, url, h).status_code == 201
    full = _put(files_api, url, h)  # files_per_parent = 3
    assert (full.status_code, full.json()["detail"]["reason"]) == (409, "too_many_files")
    assert len(events(files_api, "FILE_ATTACHED")) == 3


def test_message_files_are_the_two_parties_only(files_api: TestClient) -> None:
    _a, ha = signed_in(files_api)
    b, hb = signed_in(files_api)
    _c, hc = signed_in(files_api)
    made = files_api.post("/social/conversations", json={"participant_ids": [b["id"]]}, headers=ha)
    sent = files_api.post(
        f"/social/conversations/{made.json()['id']}/messages", json={"body": "see"}, headers=ha
    )
    url = f"/files/messages/{sent.json()['id']}"
    file_id = _put(files_api, url, ha).json()["id"]
    assert [f["id"] for f in files_api.get(url, headers=hb).json()] == [file_id]
    assert files_api.get(f"/files/{file_id}/content", headers=hb).content == PNG
    assert _put(files_api, url, hb).status_code == 403  # the sender attaches to their message
    assert files_api.delete(f"/files/{file_id}", headers=hb).status_code == 403
    for answer in (
        files_api.get(url, headers=hc),
        files_api.get(f"/files/{file_id}/content", headers=hc),
        _put(files_api, url, hc),
    ):
        assert answer.status_code == 404


def test_listing_files_are_public_while_the_listing_is_visible(files_api: TestClient) -> None:
    seller, hs = trusted(files_api)
    _buyer, hb = signed_in(files_api)
    listing = files_api.post("/marketplace/listings", json=LISTING, headers=hs).json()["id"]
    url = f"/files/listings/{listing}"
    file_id = _put(files_api, url, hs).json()["id"]
    assert _put(files_api, url, hb).status_code == 403
    assert files_api.get(f"/files/{file_id}/content", headers=hb).status_code == 200
    withdrawn = files_api.post(f"/marketplace/listings/{listing}/withdraw", headers=hs)
    assert withdrawn.status_code == 200
    assert files_api.get(url, headers=hb).status_code == 404
    assert files_api.get(f"/files/{file_id}", headers=hb).status_code == 404
    assert files_api.get(f"/files/{file_id}", headers=hs).json()["owner_id"] == seller["id"]
    missing = "/files/listings/00000000-0000-4000-8000-000000000000"
    assert files_api.get(missing, headers=hb).status_code == 404
    bogus = "/files/bogus/00000000-0000-4000-8000-000000000000"
    assert files_api.get(bogus, headers=hb).status_code == 422

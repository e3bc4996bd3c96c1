"""Attachments of tasks, messages and listings: upload, list per parent, download, delete.

Each file is seen exactly as its parent: a task's by the workspace's members (viewers read,
members attach), a message's by its conversation's participants (its sender attaches), a
listing's by anyone signed in while the listing is visible (its seller attaches). A file whose
parent the caller may not see answers 404, as an absent one does.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Annotated
from urllib.parse import quote
from uuid import UUID

from fastapi import APIRouter, Depends, HTTPException, Request, Response, status
from sqlalchemy import func, select
from sqlalchemy.orm import InstrumentedAttribute, Session

from core_api.blobstore import Storage, open_storage
from core_api.db.base import new_id
from core_api.db.collab import Membership, Project, Task
from core_api.db.files import StoredFile
from core_api.db.market import Listing
from core_api.db.social import ConversationMember, Message
from core_api.deps import ClientDep, CurrentUser, Principal, ServicesDep, SessionDep
from core_api.events import EventType
from core_api.routers.collab import RANK, membership
from core_api.schemas.files import PARENT_OF, UPLOAD_BODY, FileOut, ParentKind
from core_api.services import files
from core_api.services.guards import conflict, forbidden, not_found, require_active
from core_api.services.outbox import emit

router = APIRouter(prefix="/files", tags=["files"])
log = logging.getLogger(__name__)


async def _upload(request: Request, services: ServicesDep) -> files.Upload:
    return await files.read_upload(request, services.settings)


UploadDep = Annotated[files.Upload, Depends(_upload)]


def _unavailable() -> HTTPException:
    return HTTPException(
        status.HTTP_503_SERVICE_UNAVAILABLE,
        detail={"reason": "storage_unavailable"},
        headers={"Retry-After": "5"},
    )


def _task(db: Session, task_id: str, me: Principal, *, write: bool) -> None:
    task = db.get(Task, task_id)
    project = db.get(Project, task.project_id) if task else None
    if project is None:
        raise not_found("no_such_task")
    need = "member" if write else "viewer"
    membership(db, project.workspace_id, me.user.id, need=need, missing="no_such_task")


def _message(db: Session, message_id: str, me: Principal, *, write: bool) -> None:
    message = db.get(Message, message_id)
    if message is None or db.get(ConversationMember, (message.conversation_id, me.user.id)) is None:
        raise not_found("no_such_message")
    if write and message.sender_id != me.user.id:
        raise forbidden("not_your_message")


def _listing(db: Session, listing_id: str, me: Principal, *, write: bool) -> None:
    listing = db.get(Listing, listing_id)
    mine = listing is not None and listing.seller_id == me.user.id
    if listing is None or (listing.status == "withdrawn" and not mine):
        raise not_found("no_such_listing")
    if write and not mine:
        raise forbidden("not_your_listing")


_CHECKS = {"task": _task, "message": _message, "listing": _listing}


def _parent(db: Session, kind: str, parent_id: str, me: Principal, *, write: bool) -> None:
    """Returns when the caller may read (``write``: attach to) the parent; 404/403 otherwise."""
    _CHECKS[kind](db, parent_id, me, write=write)


def _file(db: Session, file_id: UUID, me: Principal) -> StoredFile:
    """The file if the caller may see its parent; 404 otherwise, absent or not."""
    found = db.get(StoredFile, str(file_id))
    if found is None:
        raise not_found("no_such_file")
    try:
        _parent(db, found.parent_type, found.parent_id, me, write=False)
    except HTTPException:
        raise not_found("no_such_file") from None
    return found


def _column(kind: str) -> InstrumentedAttribute[str | None]:
    column: InstrumentedAttribute[str | None] = getattr(StoredFile, f"{kind}_id")
    return column


# Before the parent routes: /files/<id>/content would otherwise match /{parent}/{parent_id}.
@router.get(
    "/{file_id}/content",
    response_class=Response,
    responses={200: {"content": {"application/octet-stream": {}}}},
)
def download(file_id: UUID, me: CurrentUser, db: SessionDep, services: ServicesDep) -> Response:
    """The bytes, always as an attachment (never rendered inline by a browser)."""
    found = _file(db, file_id, me)
    try:
        data = open_storage(services.settings).get(found.storage_key)
    except FileNotFoundError:
        log.warning("file %s has a row but no bytes at %s", found.id, found.storage_key)
        raise not_found("no_such_file") from None
    except OSError:
        log.exception("reading %s failed", found.storage_key)
        raise _unavailable() from None
    disposition = f"attachment; filename*=UTF-8''{quote(found.name, safe='')}"
    headers = {
        "Content-Disposition": disposition,
        "X-Content-Type-Options": "nosniff",
        "Cache-Control": "private, max-age=0",
    }
    return Response(data, media_type=found.content_type, headers=headers)


@router.post(
    "/{parent}/{parent_id}",
    status_code=status.HTTP_201_CREATED,
    response_model=FileOut,
    openapi_extra={"requestBody": UPLOAD_BODY},
    summary="Attach a file (multipart form field `file`)",
)
def upload(
    parent: ParentKind,
    parent_id: UUID,
    body: UploadDep,
    me: CurrentUser,
    db: SessionDep,
    services: ServicesDep,
    client: ClientDep,
) -> StoredFile:
    """413 past `VOUCH_FILES_MAX_BYTES`; 415 when the bytes are not an allowed type (read from
    the content, not the declared type) or contradict the declared type; 409 past
    `VOUCH_FILES_PER_PARENT` files on one parent. The body is read (within its limit) before
    the caller's session: a slow upload holds no database slot."""
    require_active(me)
    settings, kind = services.settings, PARENT_OF[parent]
    _parent(db, kind, str(parent_id), me, write=True)
    held = db.scalar(select(func.count()).where(_column(kind) == str(parent_id)))
    if (held or 0) >= settings.files_per_parent:
        raise conflict("too_many_files")
    media_type = files.check_type(body, settings)
    file_id = new_id()
    row = StoredFile(
        id=file_id,
        owner_id=me.user.id,
        name=body.name,
        content_type=media_type,
        size_bytes=len(body.data),
        sha256=files.sha256(body.data),
        storage_key=f"{kind}/{file_id}",  # never the user's file name
        **{f"{kind}_id": str(parent_id)},
    )
    db.add(row)
    storage = open_storage(settings)
    try:
        storage.put(row.storage_key, body.data)
    except OSError:
        log.exception("storing %s failed", row.storage_key)
        raise _unavailable() from None
    emit(
        db,
        EventType.FILE_ATTACHED,
        actor_id=me.user.id,
        subject_id=row.id,
        payload={
            "attached_to": kind,
            "parent_id": str(parent_id),
            "media_type": media_type,
            "size_bytes": row.size_bytes,
            "content_sha256": row.sha256,
        },
        context=client.event_context(),
    )
    try:
        db.commit()
    except BaseException:
        _forget(storage, row.storage_key)  # no row, no bytes
        raise
    return row


@router.get("/{parent}/{parent_id}", response_model=list[FileOut])
def attached(
    parent: ParentKind, parent_id: UUID, me: CurrentUser, db: SessionDep
) -> Sequence[StoredFile]:
    kind = PARENT_OF[parent]
    _parent(db, kind, str(parent_id), me, write=False)
    query = select(StoredFile).where(_column(kind) == str(parent_id))
    return db.scalars(query.order_by(StoredFile.created_at, StoredFile.id)).all()


@router.get("/{file_id}", response_model=FileOut)
def file_info(file_id: UUID, me: CurrentUser, db: SessionDep) -> StoredFile:
    return _file(db, file_id, me)


@router.delete("/{file_id}", status_code=status.HTTP_204_NO_CONTENT)
def delete_file(file_id: UUID, me: CurrentUser, db: SessionDep, services: ServicesDep) -> None:
    """The uploader may delete a file; so may a task's workspace admins and a listing's seller."""
    require_active(me)
    found = _file(db, file_id, me)
    if found.owner_id != me.user.id and not _manages(db, found, me):
        raise forbidden("not_your_file")
    key = found.storage_key
    db.delete(found)
    db.commit()
    _forget(open_storage(services.settings), key)


def _manages(db: Session, found: StoredFile, me: Principal) -> bool:
    """A task's workspace admins and a listing's seller manage its files too."""
    if found.task_id:
        task = db.get(Task, found.task_id)
        project = db.get(Project, task.project_id) if task else None
        mine = db.get(Membership, (project.workspace_id, me.user.id)) if project else None
        return mine is not None and RANK[mine.role] >= RANK["admin"]
    if found.listing_id:
        listing = db.get(Listing, found.listing_id)
        return listing is not None and listing.seller_id == me.user.id
    return False


def _forget(storage: Storage, key: str) -> None:
    try:
        storage.delete(key)
    except OSError:
        log.exception("could not remove %s from storage (an orphan to sweep)", key)

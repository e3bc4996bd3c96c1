"""``Idempotency-Key`` on money-moving calls (IETF draft-ietf-httpapi-idempotency-key-header).

The first answer is stored with the write it describes, in the same transaction: a retry with the
same key and the same request gets that answer again (``Idempotent-Replayed: true``) and moves no
money; the same key with a different request is a client error (422). Keys are scoped per user.
Twins racing with one key are serialised: on PostgreSQL by a transaction-level advisory lock on
the key, on SQLite by the write transaction itself.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, TypeVar

from fastapi import Header, HTTPException, status
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from core_api.db.money import IdempotencyRecord
from core_api.services.payments import begin_write

KEY_RE = r"^[A-Za-z0-9_.:\-]{8,255}$"
IdempotencyKey = Annotated[
    str,
    Header(alias="Idempotency-Key", pattern=KEY_RE, description="unique per intended operation"),
]
REPLAYED = "Idempotent-Replayed"
M = TypeVar("M", bound=BaseModel)


@dataclass(frozen=True)
class Keyed:
    user_id: str
    key: str
    request_hash: str


def keyed(user_id: str, key: str, *, route: str, body: BaseModel | None = None) -> Keyed:
    """The key with a fingerprint of what it was sent with (route and validated body)."""
    request = {"route": route, "body": body.model_dump(mode="json") if body else None}
    canonical = json.dumps(request, sort_keys=True, separators=(",", ":"))
    return Keyed(user_id, key, hashlib.sha256(canonical.encode()).hexdigest())


def replay(session: Session, request: Keyed) -> JSONResponse | None:
    """The stored first answer to this key, if any; 422 when the key came with another request."""
    row = session.get(IdempotencyRecord, (request.user_id, request.key), populate_existing=True)
    if row is None:
        return None
    if row.request_hash != request.request_hash:
        raise HTTPException(
            status.HTTP_422_UNPROCESSABLE_CONTENT, detail={"reason": "idempotency_key_reused"}
        )
    return JSONResponse(
        json.loads(row.response), status_code=row.status_code, headers={REPLAYED: "true"}
    )


def run(
    session: Session, request: Keyed, *, work: Callable[[], M], status_code: int
) -> M | JSONResponse:
    """Do ``work`` once per key: commit its writes, its events and its answer together."""
    begin_write(session)
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _lock_id(request)})
    earlier = replay(session, request)
    if earlier is not None:
        session.rollback()
        return earlier
    out = work()
    session.add(
        IdempotencyRecord(
            user_id=request.user_id,
            key=request.key,
            request_hash=request.request_hash,
            status_code=status_code,
            response=out.model_dump_json(),
        )
    )
    try:
        session.commit()
    except IntegrityError:
        session.rollback()
        earlier = replay(session, request)
        if earlier is None:
            raise
        return earlier
    return out


def _lock_id(request: Keyed) -> int:
    digest = hashlib.sha256(f"{request.user_id}\x00{request.key}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)

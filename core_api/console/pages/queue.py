"""The queue: cases sorted and filtered, a keyset "next page" link, and claiming a case."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Annotated, Literal
from urllib.parse import urlencode
from uuid import UUID

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from core_api.console import auth
from core_api.console.case_view import staff
from core_api.console.web import PREFIX, Console, ConsoleForm, page
from core_api.db.identity import User
from core_api.db.review import CASE_STATUSES, SOURCES
from core_api.deps import SessionDep
from core_api.services import review
from core_api.services.review_common import Sort

router = APIRouter()
Band = Literal["low", "medium", "high"]
Source = Literal["score", "report", "chargeback", "appeal", "analyst"]
Status = Literal["open", "claimed", "decided", "escalated", "info_requested", "all"]
Text = Annotated[str | None, Query(max_length=254)]


def emails(db: Session, user_ids: Iterable[str | None]) -> dict[str, str]:
    wanted = sorted({u for u in user_ids if u})
    if not wanted:
        return {}
    rows = db.execute(select(User.id, User.email).where(User.id.in_(wanted)))
    return {user_id: email for user_id, email in rows}


@router.get("", include_in_schema=False)
@router.get("/", include_in_schema=False)
def home(_me: Console) -> Response:
    return RedirectResponse(f"{PREFIX}/queue", status_code=303)


@router.get("/queue", response_class=HTMLResponse)
def queue_page(
    request: Request,
    me: Console,
    db: SessionDep,
    sort: Sort = "risk",
    order: Literal["desc", "asc"] = "desc",
    band: Band | None = None,
    reason: Text = None,
    source: Source | None = None,
    status: Status | None = None,
    assignee: Text = None,
    q: Text = None,
    cursor: Annotated[str | None, Query(max_length=512)] = None,
) -> Response:
    assignee_id = me.user.id if assignee == "me" else (assignee or None)
    filters = review.QueueFilter(
        band=band,
        reason=reason or None,
        source=source,
        status=status,
        assignee_id=assignee_id,
        search=(q or "").strip() or None,
    )
    result = review.queue(
        db,
        analyst_id=me.user.id,
        filters=filters,
        sort=sort,
        descending=order == "desc",
        cursor=cursor or None,
        limit=50,
    )
    kept = {
        "sort": sort,
        "order": order,
        "band": band,
        "reason": reason,
        "source": source,
        "status": status,
        "assignee": assignee,
        "q": q,
    }
    kept = {k: v for k, v in kept.items() if v}
    next_url = (
        f"{PREFIX}/queue?{urlencode({**kept, 'cursor': result.next_cursor})}"
        if result.next_cursor
        else None
    )
    names = emails(db, [c.user_id for c in result.rows] + [c.assignee_id for c in result.rows])
    context = {
        "me": me,
        "rows": result.rows,
        "names": names,
        "kept": kept,
        "next_url": next_url,
        "first_url": f"{PREFIX}/queue?{urlencode(kept)}" if cursor else None,
        "sort_urls": {s: f"{PREFIX}/queue?{urlencode({**kept, 'sort': s})}" for s in review.SORTS},
        "staff": staff(db),
        "sources": SOURCES,
        "statuses": CASE_STATUSES,
    }
    return page(request, "queue.html", context=context)


@router.post("/cases/{case_id}/assign")
def assign(
    case_id: UUID,
    me: ConsoleForm,
    db: SessionDep,
    assignee: Annotated[str, Form(max_length=36)] = "",
) -> Response:
    """Hand the case to another analyst (or to oneself), or release it (no assignee)."""
    if assignee:
        try:
            assignee = str(UUID(assignee))
        except ValueError:
            raise auth.Refused("assignee_not_an_analyst", status=422) from None
    review.assign(db, str(case_id), analyst_id=me.user.id, assignee_id=assignee or None)
    return RedirectResponse(f"{PREFIX}/cases/{case_id}", status_code=303)


@router.post("/cases/{case_id}/claim", response_class=HTMLResponse)
def claim(request: Request, case_id: UUID, me: ConsoleForm, db: SessionDep) -> Response:
    case = review.claim(db, str(case_id), analyst_id=me.user.id)
    if "hx-request" not in request.headers:
        return RedirectResponse(f"{PREFIX}/cases/{case.id}", status_code=303)
    names = emails(db, [case.user_id, case.assignee_id])
    return page(request, "_queue_row.html", context={"me": me, "case": case, "names": names})

"""The review service as JSON (``/review/api``), for scripts and tests; the console's pages
(``core_api.console``) call the same service functions.

Bearer sessions like the rest of the API. Every route needs a review role (``analyst``,
``senior_analyst`` or ``admin``): anyone else gets 403 ``analyst_required``. Confirming fraud
bans, so it also needs a fresh second factor (401 with the same step-up challenge the access
rules send; ``POST /identity/mfa/verify`` raises the session's level).
"""

from __future__ import annotations

from dataclasses import asdict
from datetime import UTC, datetime
from typing import Annotated, Any, Literal
from uuid import UUID

from fastapi import APIRouter, Depends, HTTPException, Path, Query, status

from core_api.deps import (
    ClientDep,
    CurrentUser,
    Principal,
    Services,
    ServicesDep,
    SessionDep,
)
from core_api.schemas.review import (
    AssigneeIn,
    CaseOut,
    DecisionIn,
    DecisionOut,
    MetricsOut,
    NoteIn,
    NoteOut,
    PageOut,
    ReversalIn,
    RingDecisionIn,
    SyncOut,
)
from core_api.services import review
from core_api.services.guards import require_active

router = APIRouter(prefix="/review/api", tags=["review"])


def require_analyst(me: CurrentUser, db: SessionDep) -> Principal:
    require_active(me)
    if not review.is_analyst(db, me.user.id):
        raise HTTPException(status.HTTP_403_FORBIDDEN, detail={"reason": "analyst_required"})
    return me


Analyst = Annotated[Principal, Depends(require_analyst)]


def _refused(exc: review.ReviewError) -> HTTPException:
    return HTTPException(exc.status, detail={"reason": exc.code})


def _case(view: review.CaseView) -> dict[str, Any]:
    return {**asdict(view), "reasons": list(view.reasons)}


@router.get("/cases", response_model=PageOut)
def cases(
    me: Analyst,
    db: SessionDep,
    sort: Literal["risk", "age", "amount"] = "risk",
    descending: bool = True,
    cursor: Annotated[str | None, Query(max_length=512)] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    band: Annotated[str | None, Query(max_length=16)] = None,
    reason: Annotated[str | None, Query(max_length=200)] = None,
    source: Literal["score", "report", "chargeback", "appeal", "analyst"] | None = None,
    case_status: Annotated[
        Literal["open", "claimed", "decided", "escalated", "info_requested"] | None,
        Query(alias="status"),
    ] = None,
    assignee: UUID | None = None,
    q: Annotated[str | None, Query(max_length=254)] = None,
) -> dict[str, Any]:
    filters = review.QueueFilter(
        band=band,
        reason=reason,
        source=source,
        status=case_status,
        assignee_id=str(assignee) if assignee else None,
        search=q,
    )
    try:
        page = review.queue(
            db,
            analyst_id=me.user.id,
            filters=filters,
            sort=sort,
            descending=descending,
            cursor=cursor,
            limit=limit,
        )
    except review.ReviewError as exc:
        raise _refused(exc) from None
    return {"cases": [_case(c) for c in page.rows], "next_cursor": page.next_cursor}


@router.get("/cases/{case_id}", response_model=CaseOut)
def case(case_id: UUID, me: Analyst, db: SessionDep) -> dict[str, Any]:
    try:
        return _case(review.get_case(db, str(case_id), analyst_id=me.user.id))
    except review.ReviewError as exc:
        raise _refused(exc) from None


@router.get("/cases/{case_id}/history", response_model=list[DecisionOut])
def case_history(case_id: UUID, me: Analyst, db: SessionDep) -> list[review.DecisionView]:
    try:
        return list(review.history(db, analyst_id=me.user.id, case_id=str(case_id)))
    except review.ReviewError as exc:
        raise _refused(exc) from None


@router.get("/cases/{case_id}/notes", response_model=list[NoteOut])
def case_notes(case_id: UUID, me: Analyst, db: SessionDep) -> list[review.NoteView]:
    try:
        return list(review.notes(db, analyst_id=me.user.id, case_id=str(case_id)))
    except review.ReviewError as exc:
        raise _refused(exc) from None


@router.post("/cases/{case_id}/notes", status_code=status.HTTP_201_CREATED, response_model=NoteOut)
def add_note(case_id: UUID, body: NoteIn, me: Analyst, db: SessionDep) -> review.NoteView:
    """A note on the case without a decision (any time, a decided case included)."""
    try:
        return review.add_note(db, str(case_id), analyst_id=me.user.id, body=body.body)
    except review.ReviewError as exc:
        raise _refused(exc) from None


@router.post("/cases/{case_id}/claim", response_model=CaseOut)
def claim(case_id: UUID, me: Analyst, db: SessionDep) -> dict[str, Any]:
    try:
        return _case(review.claim(db, str(case_id), analyst_id=me.user.id))
    except review.ReviewError as exc:
        raise _refused(exc) from None


@router.put("/cases/{case_id}/assignee", response_model=CaseOut)
def assign(case_id: UUID, body: AssigneeIn, me: Analyst, db: SessionDep) -> dict[str, Any]:
    try:
        view = review.assign(db, str(case_id), analyst_id=me.user.id, assignee_id=body.assignee_id)
    except review.ReviewError as exc:
        raise _refused(exc) from None
    return _case(view)


@router.post(
    "/cases/{case_id}/decisions", status_code=status.HTTP_201_CREATED, response_model=DecisionOut
)
def decide(
    case_id: UUID,
    body: DecisionIn,
    me: Analyst,
    db: SessionDep,
    services: ServicesDep,
    client: ClientDep,
) -> review.DecisionView:
    if body.action == "confirm":
        _fresh_second_factor(me, services)
    try:
        return review.decide(
            db,
            str(case_id),
            analyst_id=me.user.id,
            action=body.action,
            reason=body.reason,
            note=body.note,
            store=services.store,
            context=client.event_context(),
        )
    except review.ReviewError as exc:
        raise _refused(exc) from None


@router.post("/decisions", status_code=status.HTTP_201_CREATED, response_model=list[DecisionOut])
def decide_ring(
    body: RingDecisionIn,
    me: Analyst,
    db: SessionDep,
    services: ServicesDep,
    client: ClientDep,
) -> tuple[review.DecisionView, ...]:
    if body.action == "confirm":
        _fresh_second_factor(me, services)
    try:
        return review.decide_many(
            db,
            [str(c) for c in body.case_ids],
            analyst_id=me.user.id,
            action=body.action,
            reason=body.reason,
            note=body.note,
            store=services.store,
            context=client.event_context(),
        )
    except review.ReviewError as exc:
        raise _refused(exc) from None


@router.post(
    "/decisions/{decision_id}/reversal",
    status_code=status.HTTP_201_CREATED,
    response_model=DecisionOut,
)
def reverse(
    decision_id: Annotated[int, Path(ge=1, le=2**31 - 1)],  # an INTEGER key
    body: ReversalIn,
    me: Analyst,
    db: SessionDep,
    services: ServicesDep,
    client: ClientDep,
) -> review.DecisionView:
    try:
        return review.reverse(
            db,
            decision_id,
            analyst_id=me.user.id,
            reason=body.reason,
            note=body.note,
            store=services.store,
            context=client.event_context(),
        )
    except review.ReviewError as exc:
        raise _refused(exc) from None


@router.get("/metrics", response_model=MetricsOut)
def metrics(
    me: Analyst, db: SessionDep, days: Annotated[int, Query(ge=1, le=366)] = 14
) -> review.Metrics:
    return review.metrics(db, analyst_id=me.user.id, days=days)


@router.post("/sync", response_model=SyncOut)
def sync(me: Analyst, db: SessionDep, services: ServicesDep) -> review.SyncResult:
    """Open cases from reports, chargebacks and appeals (score flags come from ``vouch queue
    --sync``, which reads the pipeline's tables)."""
    return review.sync_cases(db, store=services.store)


def _fresh_second_factor(me: Principal, services: Services) -> None:
    fresh_s = services.decider.rules.mfa.fresh_s
    at = me.session.mfa_at
    if at is not None and (datetime.now(UTC) - at).total_seconds() <= fresh_s:
        return
    challenge = (
        'Bearer error="insufficient_user_authentication", '
        'error_description="confirming fraud bans: it needs a fresh second factor", '
        f'acr_values="mfa", max_age={int(fresh_s)}'
    )
    raise HTTPException(
        status.HTTP_401_UNAUTHORIZED,
        detail={"reason": "mfa_required"},
        headers={"WWW-Authenticate": challenge},
    )

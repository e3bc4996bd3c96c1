"""The case page, its paged timeline, and the decisions taken from it (one case or a ring)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Literal
from uuid import UUID

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from core_api.console import auth, case_view, links
from core_api.console.web import PREFIX, Console, ConsoleForm, TimelineCursor, page
from core_api.db.identity import User
from core_api.deps import ClientDep, ServicesDep, SessionDep
from core_api.services import codes, review

router = APIRouter()
Action = Literal["confirm", "clear", "escalate", "request_info"]


@router.get("/cases/{case_id}", response_class=HTMLResponse)
def case_page(
    request: Request, case_id: UUID, me: Console, db: SessionDep, services: ServicesDep
) -> Response:
    case = review.get_case(db, str(case_id), analyst_id=me.user.id)
    context = case_view.case_context(db, services.settings, case=case, analyst_id=me.user.id)
    context |= {"me": me, "done": request.query_params.get("done")}
    return page(request, "case.html", context=context)


@router.get("/cases/{case_id}/timeline", response_class=HTMLResponse)
def timeline(
    request: Request,
    case_id: UUID,
    me: Console,
    db: SessionDep,
    services: ServicesDep,
    before: TimelineCursor,
) -> Response:
    case = review.get_case(db, str(case_id), analyst_id=me.user.id)
    context = case_view.timeline_page(
        db, services.settings, base=f"{PREFIX}/cases/{case.id}", user_id=case.user_id, before=before
    )
    return page(request, "_timeline.html", context={"me": me, "case": case, **context})


def _second_factor(me: auth.Analyst, db: SessionDep, services: ServicesDep, code: str) -> None:
    """A ban needs a second factor from the last ``MFA_FRESH``: the session's, or this code."""
    if me.mfa_fresh:
        return
    to = auth.mfa_address(me.user)
    if not code or to is None:
        raise auth.Refused("mfa_required")
    try:
        codes.check_code(
            db, services.tokens, user=me.user, purpose="mfa", destination=to, code=code
        )
    except codes.CodeRejected as exc:
        raise auth.Refused(exc.reason) from None
    me.session.mfa_at = datetime.now(UTC)
    db.commit()


@router.post("/cases/{case_id}/decide")
def decide(
    case_id: UUID,
    me: ConsoleForm,
    db: SessionDep,
    services: ServicesDep,
    client: ClientDep,
    action: Annotated[Action, Form()],
    reason: Annotated[str, Form(max_length=64)],
    note: Annotated[str, Form(max_length=2000)] = "",
    code: Annotated[str, Form(max_length=12)] = "",
    ring: Annotated[list[str] | None, Form(max_length=64)] = None,
) -> Response:
    if reason not in case_view.REASONS[action]:
        raise auth.Refused("unknown_reason", status=422)
    case = review.get_case(db, str(case_id), analyst_id=me.user.id)
    if case.user_id == me.user.id:
        raise auth.Refused("own_account")
    # Ring members must share evidence (a device or an IP) with this case's user, now.
    members = _ring(db, services, case=case, wanted=ring or [])
    if action in case_view.BANNING:
        _second_factor(me, db, services, code.strip())
    # One transaction for the case and its ring: all of them decided, or none.
    ring_note = f" (ring of {len(members) + 1} decided from case {case.id})" if members else ""
    review.decide_many(
        db,
        [case.id, *(member.id for member in members)],
        analyst_id=me.user.id,
        action=action,
        reason=reason,
        note=(note + ring_note).strip(),
        store=services.store,
        context=client.event_context(),
    )
    return RedirectResponse(f"{PREFIX}/cases/{case.id}?done={action}", status_code=303)


def _ring(
    db: SessionDep, services: ServicesDep, *, case: review.CaseView, wanted: list[str]
) -> list[review.CaseView]:
    if not wanted:
        return []
    user = db.get(User, case.user_id)
    assert user is not None
    sharing = {
        link.user_id
        for link in links.linked_accounts(db, services.settings, user_id=user.id)
        if link.shares_evidence
    }
    cases = case_view.open_cases_of(db, sorted(sharing))
    chosen = []
    for user_id in dict.fromkeys(wanted):
        if user_id not in cases:
            raise auth.Refused("not_a_ring_member", status=422)
        chosen.append(cases[user_id])
    return chosen


@router.post("/cases/{case_id}/notes")
def add_note(
    case_id: UUID,
    me: ConsoleForm,
    db: SessionDep,
    body: Annotated[str, Form(max_length=2000)],
) -> Response:
    """A note without a decision: it joins the case's "Decisions and notes"."""
    review.add_note(db, str(case_id), analyst_id=me.user.id, body=body)
    return RedirectResponse(f"{PREFIX}/cases/{case_id}?done=note#notes", status_code=303)


@router.post("/decisions/{decision_id}/reverse")
def reverse(
    decision_id: int,
    me: ConsoleForm,
    db: SessionDep,
    services: ServicesDep,
    client: ClientDep,
    reason: Annotated[str, Form(max_length=64)],
    note: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    if reason not in case_view.REVERSAL_REASONS:
        raise auth.Refused("unknown_reason", status=422)
    done = review.reverse(
        db,
        decision_id,
        analyst_id=me.user.id,
        reason=reason,
        note=note,
        store=services.store,
        context=client.event_context(),
    )
    return RedirectResponse(f"{PREFIX}/cases/{done.case_id}?done=reverse", status_code=303)

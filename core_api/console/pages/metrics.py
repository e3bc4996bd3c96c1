"""The metrics page: queue size and age, decisions per day per analyst, share confirmed, time
to decision and reversals, from the review service's ``metrics``."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response

from core_api.console.pages.queue import emails
from core_api.console.web import Console, page
from core_api.deps import SessionDep
from core_api.services import review

router = APIRouter()


@router.get("/metrics", response_class=HTMLResponse)
def metrics_page(
    request: Request,
    me: Console,
    db: SessionDep,
    days: Annotated[int, Query(ge=1, le=90)] = 14,
) -> Response:
    figures = review.metrics(db, analyst_id=me.user.id, days=days)
    analysts = sorted({a for per in figures.decisions_per_day.values() for a in per})
    per_day = sorted(figures.decisions_per_day.items(), reverse=True)
    context = {
        "me": me,
        "m": figures,
        "days": days,
        "analysts": analysts,
        "names": emails(db, analysts),
        "per_day": per_day,
        "busiest": max((sum(v.values()) for _, v in per_day), default=0),
    }
    return page(request, "metrics.html", context=context)

"""Everything a case page shows, gathered in one place: the routes only render it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import urlencode

from sqlalchemy import select
from sqlalchemy.orm import Session

from core_api.console import drawing, links, profile, warehouse
from core_api.console.web import PREFIX
from core_api.db.admin import RoleGrant
from core_api.db.identity import User
from core_api.db.review import ReviewCase
from core_api.services import review
from settings import Settings

# What an analyst may give as the reason of each decision (the audit log's reason codes).
REASONS: dict[str, tuple[str, ...]] = {
    "confirm": (
        "account_takeover",
        "stolen_payment_method",
        "money_mule",
        "fake_account",
        "scam_seller",
        "promotion_abuse",
        "ring_member",
    ),
    "clear": ("false_positive", "verified_identity", "legitimate_activity", "known_customer"),
    "escalate": ("needs_senior_review", "legal_or_law_enforcement", "large_exposure"),
    "request_info": ("identity_documents", "source_of_funds", "transaction_explanation"),
}
REVERSAL_REASONS = ("decided_in_error", "new_evidence", "appeal_upheld", "identity_verified")
BANNING = frozenset({"confirm"})  # decisions that ban: they need a fresh second factor


def open_cases_of(db: Session, user_ids: list[str]) -> dict[str, review.CaseView]:
    """Each user's undecided case (the riskiest when a user has several sources)."""
    if not user_ids:
        return {}
    rows = db.scalars(
        select(ReviewCase)
        .where(ReviewCase.user_id.in_(user_ids), ReviewCase.status != "decided")
        .order_by(ReviewCase.risk.desc(), ReviewCase.id)
    )
    found: dict[str, review.CaseView] = {}
    for row in rows:
        found.setdefault(row.user_id, review.CaseView.of(row))
    return found


def staff(db: Session) -> list[tuple[str, str]]:
    """(user id, e-mail) of everyone who may review, by e-mail: the assignee choices."""
    rows = db.execute(
        select(User.id, User.email)
        .join(RoleGrant, RoleGrant.user_id == User.id)
        .where(RoleGrant.role.in_(sorted(review.ANALYST_ROLES)), User.status == "active")
        .distinct()
        .order_by(User.email)
    )
    return [(user_id, email) for user_id, email in rows]


def case_of_user(db: Session, user_id: str) -> str | None:
    """The case a click on a user opens: their undecided case, else their newest one."""
    row = db.scalar(
        select(ReviewCase.id)
        .where(ReviewCase.user_id == user_id)
        .order_by((ReviewCase.status == "decided").asc(), ReviewCase.opened_at.desc())
        .limit(1)
    )
    return row


@dataclass(frozen=True)
class RingMember:
    link: links.Link
    case: review.CaseView
    email: str


def _label(user: User) -> str:
    local = user.email.split("@", 1)[0]
    return local if len(local) <= 12 else local[:11] + "…"


def linked_graph(
    db: Session, settings: Settings, *, user: User, risk: float | None
) -> tuple[drawing.Graph, list[links.Link], dict[str, Any]]:
    found = links.linked_accounts(db, settings, user_id=user.id)
    ids = [link.user_id for link in found]
    users = {u.id: u for u in db.scalars(select(User).where(User.id.in_(ids)))}
    scores = warehouse.latest_scores(settings, ids)
    cases = open_cases_of(db, ids)
    accounts = {}
    for uid in ids:
        other = users[uid]
        case = cases.get(uid)
        score = scores.get(uid)
        other_risk = case.risk if case else (score.risk if score else None)
        accounts[uid] = drawing.Account(
            user_id=uid,
            label=_label(other),
            status=other.status,
            risk=other_risk,
            href=f"{PREFIX}/users/{uid}",
        )
    centre = drawing.Account(user.id, _label(user), user.status, risk, f"{PREFIX}/users/{user.id}")
    graph = drawing.layout(centre, found, accounts=accounts)
    return graph, found, {"users": users, "cases": cases, "scores": scores}


def user_context(
    db: Session, settings: Settings, *, user: User, risk: float | None, timeline_base: str
) -> dict[str, Any]:
    """What the case page and the user page share: who, risk, links, timeline. ``risk``
    colours the graph's centre: the case's, else (None) the latest published one."""
    score = warehouse.latest_scores(settings, [user.id]).get(user.id)
    if risk is None and score is not None:
        risk = score.risk
    graph, found, linked = linked_graph(db, settings, user=user, risk=risk)
    items, more = profile.timeline(db, settings, user_id=user.id)
    return {
        "user": user,
        "profile": profile.profile(db, settings, user=user),
        "score": score,
        "chart": drawing.risk_chart(warehouse.risk_history(settings, user.id)),
        "graph": graph,
        "links": found,
        "linked": linked,
        "relation_words": links.RELATIONS,
        "related": [linked["cases"][u] for u in linked["cases"]],
        "timeline": items,
        "timeline_next": _timeline_url(timeline_base, more),
    }


def case_context(
    db: Session, settings: Settings, *, case: review.CaseView, analyst_id: str
) -> dict[str, Any]:
    user = db.get(User, case.user_id)
    assert user is not None  # a case's user is a foreign key (ON DELETE CASCADE)
    shared = user_context(
        db, settings, user=user, risk=case.risk, timeline_base=f"{PREFIX}/cases/{case.id}"
    )
    found, linked = shared["links"], shared["linked"]
    ring = [
        RingMember(link, linked["cases"][link.user_id], linked["users"][link.user_id].email)
        for link in found
        if link.shares_evidence and link.user_id in linked["cases"]
    ]
    decisions = review.history(db, analyst_id=analyst_id, user_id=user.id)
    notes = review.notes(db, analyst_id=analyst_id, user_id=user.id)
    team = staff(db)
    names = dict(team)
    unknown = ({d.analyst_id for d in decisions} | {n.author_id for n in notes}) - names.keys()
    names |= {u.id: u.email for u in db.scalars(select(User).where(User.id.in_(unknown)))}
    return {
        **shared,
        "case": case,
        "open_case": open_cases_of(db, [user.id]).get(user.id),  # the riskiest undecided
        "ring": ring,
        "decisions": decisions,
        "log": log_entries(decisions, notes),
        "names": names,
        "staff": [(uid, email) for uid, email in team if uid != user.id],
        "reasons": REASONS,
        "reversal_reasons": REVERSAL_REASONS,
        "reversible": {d.id for d in decisions if d.action != "reverse" and not d.reversed_by},
    }


@dataclass(frozen=True)
class LogEntry:
    """One line of "Decisions and notes": a decision or a note, whichever came."""

    at: datetime
    decision: review.DecisionView | None = None
    note: review.NoteView | None = None


def log_entries(
    decisions: tuple[review.DecisionView, ...], notes: tuple[review.NoteView, ...]
) -> list[LogEntry]:
    """Decisions and notes in one list, oldest first (a decision before a note at one time)."""
    entries = [LogEntry(d.at, decision=d) for d in decisions]
    entries += [LogEntry(n.at, note=n) for n in notes]
    return sorted(entries, key=lambda e: (e.at, e.decision is None))


def _timeline_url(base: str, more: Any) -> str | None:
    """The next timeline page of a case or user page (``base``: that page's path)."""
    if more is None:
        return None
    at, key = more
    query = urlencode({"before_at": at.isoformat(), "before_key": key})
    return f"{base}/timeline?{query}"


def timeline_page(
    db: Session, settings: Settings, *, base: str, user_id: str, before: Any
) -> dict[str, Any]:
    items, more = profile.timeline(db, settings, user_id=user_id, before=before)
    return {"timeline": items, "timeline_next": _timeline_url(base, more)}

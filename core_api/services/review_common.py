"""What every review module shares: who may review, the error type, and the read-only views."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Literal

from sqlalchemy import select
from sqlalchemy.orm import Session

from core_api.db.admin import RoleGrant
from core_api.db.review import ReviewCase, ReviewDecision

ANALYST_ROLES = frozenset({"analyst", "senior_analyst", "admin"})
# Who may reverse a decision: a senior analyst, and an admin (who may grant that role anyway).
REVERSER_ROLES = frozenset({"senior_analyst", "admin"})
DecisionAction = Literal["confirm", "clear", "escalate", "request_info"]
DECISION_ACTIONS: tuple[DecisionAction, ...] = ("confirm", "clear", "escalate", "request_info")
Sort = Literal["risk", "age", "amount"]
SORTS: tuple[Sort, ...] = ("risk", "age", "amount")


class ReviewError(Exception):
    """A refusal the caller turns into an HTTP answer: ``status`` and a stable ``code``."""

    def __init__(self, code: str, status: int) -> None:
        super().__init__(code)
        self.code, self.status = code, status


def forbidden(code: str) -> ReviewError:
    return ReviewError(code, 403)


def missing(code: str) -> ReviewError:
    return ReviewError(code, 404)


def conflict(code: str) -> ReviewError:
    return ReviewError(code, 409)


def invalid(code: str) -> ReviewError:
    return ReviewError(code, 422)


def roles_of(db: Session, user_id: str) -> frozenset[str]:
    return frozenset(db.scalars(select(RoleGrant.role).where(RoleGrant.user_id == user_id)))


def is_analyst(db: Session, user_id: str) -> bool:
    return bool(roles_of(db, user_id) & ANALYST_ROLES)


def can_reverse(db: Session, user_id: str) -> bool:
    return bool(roles_of(db, user_id) & REVERSER_ROLES)


def require_analyst(db: Session, analyst_id: str) -> None:
    if not is_analyst(db, analyst_id):
        raise forbidden("analyst_required")


@dataclass(frozen=True)
class CaseView:
    id: str
    user_id: str
    source: str  # score, report, chargeback, appeal
    risk: float
    band: str
    reasons: tuple[str, ...]
    amount_at_stake: Decimal
    status: str  # open, claimed, decided, escalated, info_requested
    assignee_id: str | None
    opened_at: datetime
    evidence_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, row: ReviewCase) -> CaseView:
        return cls(
            id=row.id,
            user_id=row.user_id,
            source=row.source,
            risk=row.risk,
            band=row.band,
            reasons=tuple(r for r in row.reasons.split("\n") if r),
            amount_at_stake=row.amount_at_stake,
            status=row.status,
            assignee_id=row.assignee_id,
            opened_at=row.opened_at,
            evidence_at=row.evidence_at,
            updated_at=row.updated_at,
        )


@dataclass(frozen=True)
class DecisionView:
    id: int
    case_id: str
    user_id: str
    analyst_id: str
    action: str  # confirm, clear, escalate, request_info, reverse
    reason: str
    note: str
    at: datetime
    reverses: int | None  # the decision this one reverses
    reversed_by: int | None = None  # filled by ``history``

    @classmethod
    def of(cls, row: ReviewDecision, *, reversed_by: int | None = None) -> DecisionView:
        return cls(
            id=row.id,
            case_id=row.case_id,
            user_id=row.user_id,
            analyst_id=row.analyst_id,
            action=row.action,
            reason=row.reason,
            note=row.note,
            at=row.at,
            reverses=row.reverses,
            reversed_by=reversed_by,
        )

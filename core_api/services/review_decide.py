"""Deciding cases and reversing decisions (see ``core_api.services.review`` for the contract)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from core_api.services.review_common import DecisionAction, DecisionView
from serving.store import DecisionStore


def decide(
    db: Session,
    case_id: str,
    *,
    analyst_id: str,
    action: DecisionAction,
    reason: str,
    note: str = "",
    store: DecisionStore | None = None,
    context: dict[str, Any] | None = None,
    now: datetime | None = None,
) -> DecisionView:
    """Decide a case; ``store`` is the online store (``Services.store``) that takes the
    per-user override; ``context`` the event context (``Client.event_context()``)."""
    raise NotImplementedError


def reverse(
    db: Session,
    decision_id: int,
    *,
    analyst_id: str,
    reason: str,
    note: str = "",
    store: DecisionStore | None = None,
    context: dict[str, Any] | None = None,
    now: datetime | None = None,
) -> DecisionView:
    """Reverse a decision (senior analysts and admins only)."""
    raise NotImplementedError

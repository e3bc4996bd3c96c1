"""Reports, chargebacks and appeals from the core database, as case candidates."""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from core_api.db.admin import Appeal
from core_api.db.money import ZERO
from core_api.db.review import Chargeback, UserReport
from serving.store import Ask, DecisionStore


@dataclass(frozen=True)
class Candidate:
    """A reason to open (or refresh) a case: one user, one source."""

    user_id: str
    source: str
    risk: float
    band: str
    reasons: tuple[str, ...]
    evidence_at: datetime
    amount: Decimal | None = None  # None: the user's balances


@dataclass(frozen=True)
class Verdict:
    """A user's standing verdict, with what the decided case said then."""

    action: str
    at: datetime
    band: str
    reasons: frozenset[str]


def published(store: DecisionStore | None, user_id: str) -> tuple[float, str, tuple[str, ...]]:
    """The user's published risk, band and reasons; unscored (0, low, none) without them."""
    if store is None:
        return 0.0, "low", ()
    try:
        record = store.fetch(Ask(user_id=user_id)).record
    except Exception:  # a sync without the store still opens the case, unscored
        return 0.0, "low", ()
    return (record.fraud_risk, record.band, record.reasons) if record else (0.0, "low", ())


def _risk(store: DecisionStore | None, user_id: str) -> tuple[float, str]:
    risk, band, _ = published(store, user_id)
    return risk, band


Items = dict[tuple[str, str], list[tuple[datetime, str, Decimal | None]]]


def signal_items(db: Session) -> Items:
    """Reports, chargebacks and appeals by (user, source): (time, what, amount) each."""
    grouped: Items = defaultdict(list)
    for reported, reason, at in db.execute(
        select(UserReport.reported_id, UserReport.reason, UserReport.created_at)
    ):
        grouped[(reported, "report")].append((at, f"reported for {reason}", None))
    for user, amount, currency, reason, at in db.execute(
        select(
            Chargeback.user_id,
            Chargeback.amount,
            Chargeback.currency,
            Chargeback.reason,
            Chargeback.received_at,
        )
    ):
        grouped[(user, "chargeback")].append(
            (at, f"chargeback ({reason}) {amount} {currency}", amount)
        )
    for user, status, at in db.execute(
        select(Appeal.user_id, Appeal.account_status, Appeal.created_at)
    ):
        grouped[(user, "appeal")].append((at, f"appeal against {status} status", None))
    return grouped


def signals(
    items: Items, *, verdicts: dict[str, Verdict], store: DecisionStore | None
) -> list[Candidate]:
    """One candidate per user and source from what arrived since the user's standing verdict
    (the latest evidence time; the reasons count what arrived)."""
    out = []
    for (user, source), every in items.items():
        verdict = verdicts.get(user)
        fresh = [i for i in every if verdict is None or i[0] > verdict.at]
        if not fresh:
            continue
        texts = Counter(text for _, text, _ in fresh)
        said = tuple(t if n == 1 else f"{t} (x{n})" for t, n in texts.items())
        amounts = [a for _, _, a in fresh if a is not None]
        risk, band = _risk(store, user)
        out.append(
            Candidate(
                user_id=user,
                source=source,
                risk=risk,
                band=band,
                reasons=said,
                evidence_at=max(at for at, _, _ in fresh),
                amount=sum(amounts, ZERO) if amounts else None,
            )
        )
    return out

"""Opening cases: from the latest scores' flags and the core database's open signals, and by
hand (``open_case``: an analyst looking at a linked account that has no case).

Each source yields candidates: (user, source, risk, band, reasons, amount, evidence time).
A candidate refreshes the user's undecided case of that source when there is one. Otherwise it
opens a case only if its evidence is newer than the user's latest standing verdict (a confirm or
a clear that no one reversed): a cleared user stays out of the queue until something new
happens. For a score flag, "new" means the scores now say more than when the user was cleared
(a higher band, or a reason the cleared case did not name); its evidence time is then the
scoring time.

Amount at stake: what the user could still move (their wallets' balances) for reports and
appeals, and for score flags unless the flag says (``vouch queue --sync`` passes the money that
reached the user in the last 7 days); the disputed sum for chargebacks. Different currencies
add up as plain numbers: the queue only ranks by it.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from core_api.db.identity import User
from core_api.db.money import ZERO, Wallet
from core_api.db.review import ReviewCase, ReviewDecision, ReviewNote
from core_api.services.payments import begin_write
from core_api.services.review_common import (
    CaseView,
    conflict,
    forbidden,
    missing,
    require_analyst,
)
from core_api.services.review_notes import check_body
from core_api.services.review_signals import (
    Candidate,
    Verdict,
    published,
    signal_items,
    signals,
)
from serving.rules import BAND_ORDER
from serving.store import DecisionStore

CHUNK = 500  # users per IN (...) lookup
VERDICTS = ("confirm", "clear", "reverse")


@dataclass(frozen=True)
class Flag:
    """One flagged user from a scoring run (a ``review_queue`` row): risk, band, the model's
    reasons and the rules hit, in words, and when they were scored."""

    user_id: str
    risk: float
    band: str
    reasons: tuple[str, ...]
    scored_at: datetime
    rules: tuple[str, ...] = ()
    amount: Decimal | None = None  # at stake, when the scorer knows it; else the user's balances


@dataclass(frozen=True)
class SyncResult:
    opened: int  # new cases
    refreshed: int  # open cases whose risk, reasons or amount changed
    unknown_users: int  # flags for users the core database does not have
    held_back: int  # users with a standing verdict and no evidence newer than it


def sync_cases(
    db: Session,
    *,
    flags: Iterable[Flag] = (),
    store: DecisionStore | None = None,
    now: datetime | None = None,
) -> SyncResult:
    """Open or refresh one undecided case per (user, source) from ``flags`` (source ``score``)
    and from reports, chargebacks and appeals; commits. ``store`` (the online store) gives risk
    and band to cases from the other sources; without it they carry none."""
    now = now or datetime.now(UTC)
    flagged = {f.user_id: f for f in flags}
    known = _existing(db, flagged)
    unknown = len(flagged) - len(known)
    items = signal_items(db)
    users = set(known) | {user for user, _ in items}
    verdicts, open_cases = _verdicts(db, users), _open_cases(db, users)
    candidates = [_from_flag(flagged[u]) for u in known]
    candidates += signals(items, verdicts=verdicts, store=store)
    balances = _balances(db, users)
    status = _statuses(db, users)
    counts: Counter[str] = Counter()
    for c in candidates:
        amount = c.amount if c.amount is not None else balances.get(c.user_id, ZERO)
        case = open_cases.get((c.user_id, c.source))
        if case is not None:
            counts["refreshed"] += _refresh(case, c, amount=amount, now=now)
            continue
        verdict = verdicts.get(c.user_id)
        if status.get(c.user_id) == "banned" and c.source != "appeal":
            counts["held_back"] += 1  # already decided the hard way; only an appeal reopens
            continue
        evidence = _new_evidence(c, verdict)
        if evidence is None:
            counts["held_back"] += 1
            continue
        db.add(
            ReviewCase(
                user_id=c.user_id,
                source=c.source,
                risk=c.risk,
                band=c.band,
                reasons="\n".join(c.reasons),
                amount_at_stake=amount,
                status="open",
                opened_at=now,
                evidence_at=evidence,
                updated_at=now,
            )
        )
        counts["opened"] += 1
    db.commit()
    return SyncResult(
        opened=counts["opened"],
        refreshed=counts["refreshed"],
        unknown_users=unknown,
        held_back=counts["held_back"],
    )


def open_case(
    db: Session,
    user_id: str,
    *,
    analyst_id: str,
    note: str = "",
    store: DecisionStore | None = None,
    now: datetime | None = None,
) -> CaseView:
    """Open a case on a user by hand (source ``analyst``), claimed by the analyst who opens it;
    risk, band and reasons are the user's published scores (``store``), the amount their
    balances; ``note`` (why) joins the case's notes. The analyst's judgement is the new
    evidence: a standing clear does not hold it back. 404 ``no_such_user``, 403
    ``own_account``, 409 ``case_open`` while the user has an undecided case (work that one)."""
    require_analyst(db, analyst_id)
    if db.get(User, user_id) is None:
        raise missing("no_such_user")
    if user_id == analyst_id:
        raise forbidden("own_account")
    why = check_body(note) if note.strip() else ""
    now = now or datetime.now(UTC)
    begin_write(db)  # SQLite: one writer from the check on, so two openings cannot race
    undecided = select(ReviewCase.id).where(
        ReviewCase.user_id == user_id, ReviewCase.status != "decided"
    )
    if db.scalar(undecided.limit(1)) is not None:
        db.rollback()
        raise conflict("case_open")
    risk, band, reasons = published(store, user_id)
    row = ReviewCase(
        user_id=user_id,
        source="analyst",
        risk=risk,
        band=band,
        reasons="\n".join(reasons or ("opened by an analyst",)),
        amount_at_stake=_balances(db, {user_id}).get(user_id, ZERO),
        status="claimed",
        assignee_id=analyst_id,
        opened_at=now,
        evidence_at=now,
        updated_at=now,
    )
    try:
        db.add(row)
        db.flush()  # the id, for the note
        if why:
            note_row = ReviewNote(
                case_id=row.id, user_id=user_id, author_id=analyst_id, body=why, at=now
            )
            db.add(note_row)
        db.commit()
    except IntegrityError:  # PostgreSQL: another analyst opened one first (the unique index)
        db.rollback()
        raise conflict("case_open") from None
    return CaseView.of(row)


def _from_flag(f: Flag) -> Candidate:
    said = tuple(dict.fromkeys((*f.reasons, *f.rules)))
    return Candidate(f.user_id, "score", f.risk, f.band, said, f.scored_at, amount=f.amount)


def _new_evidence(c: Candidate, verdict: Verdict | None) -> datetime | None:
    """When the candidate's evidence is newer than the standing verdict: its time; else None."""
    if verdict is None:
        return c.evidence_at
    if c.source == "score":
        stronger = BAND_ORDER.get(c.band, 0) > BAND_ORDER.get(verdict.band, 0)
        news = bool(set(c.reasons) - verdict.reasons)
        return c.evidence_at if (stronger or news) and c.evidence_at > verdict.at else None
    return c.evidence_at if c.evidence_at > verdict.at else None


def _refresh(case: ReviewCase, c: Candidate, *, amount: Decimal, now: datetime) -> int:
    reasons = "\n".join(c.reasons)
    new = (c.risk, c.band, reasons, amount)
    if (case.risk, case.band, case.reasons, case.amount_at_stake) == new and (
        case.evidence_at >= c.evidence_at
    ):
        return 0
    case.risk, case.band, case.reasons, case.amount_at_stake = new
    case.evidence_at = max(case.evidence_at, c.evidence_at)
    case.updated_at = now
    return 1


def _chunks(ids: Iterable[str]) -> Iterator[list[str]]:
    ordered = sorted(ids)
    for start in range(0, len(ordered), CHUNK):
        yield ordered[start : start + CHUNK]


def _existing(db: Session, users: Iterable[str]) -> list[str]:
    out: list[str] = []
    for part in _chunks(users):
        out += db.scalars(select(User.id).where(User.id.in_(part))).all()
    return out


def _statuses(db: Session, users: set[str]) -> dict[str, str]:
    out: dict[str, str] = {}
    for part in _chunks(users):
        out.update(db.execute(select(User.id, User.status).where(User.id.in_(part))).all())
    return out


def _open_cases(db: Session, users: set[str]) -> dict[tuple[str, str], ReviewCase]:
    out = {}
    for part in _chunks(users):
        undecided = ReviewCase.status != "decided"
        query = select(ReviewCase).where(ReviewCase.user_id.in_(part), undecided)
        out.update({(c.user_id, c.source): c for c in db.scalars(query)})
    return out


def _verdicts(db: Session, users: set[str]) -> dict[str, Verdict]:
    """Each user's standing verdict: the latest confirm or clear, where a reversed confirm
    counts as a clear from the reversal on and a reversed clear as no verdict."""
    out: dict[str, Verdict] = {}
    for part in _chunks(users):
        query = (
            select(ReviewDecision, ReviewCase.band, ReviewCase.reasons)
            .join(ReviewCase, ReviewCase.id == ReviewDecision.case_id)
            .where(ReviewDecision.user_id.in_(part), ReviewDecision.action.in_(VERDICTS))
            .order_by(ReviewDecision.at, ReviewDecision.id)
        )
        actions: dict[int, str] = {}
        for decision, band, reasons in db.execute(query):
            action = decision.action
            if action == "reverse":
                action = "clear" if actions.get(decision.reverses or -1) == "confirm" else ""
            actions[decision.id] = decision.action
            if not action:
                out.pop(decision.user_id, None)
                continue
            said = frozenset(r for r in reasons.split("\n") if r)
            out[decision.user_id] = Verdict(action, decision.at, band, said)
    return out


def _balances(db: Session, users: set[str]) -> dict[str, Decimal]:
    out: dict[str, Decimal] = {}
    for part in _chunks(users):
        query = (
            select(Wallet.owner_id, func.sum(Wallet.balance))
            .where(Wallet.owner_id.in_(part), Wallet.kind == "user")
            .group_by(Wallet.owner_id)
        )
        for owner, total in db.execute(query):
            if owner is not None:
                out[owner] = total or ZERO  # SUM keeps the Money type: a Decimal
    return out

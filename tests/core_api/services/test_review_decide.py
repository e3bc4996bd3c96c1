"""Decisions, reversals, the sync's memory of a clear, and the metrics, on both databases."""

from __future__ import annotations

import json
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from core_api.db.admin import Appeal, StatusAudit
from core_api.db.identity import User
from core_api.db.outbox import OutboxRow
from core_api.db.review import UserReport
from core_api.services import review
from core_api.services.review import Flag, QueueFilter, ReviewError
from serving.decide import Context, Decider
from serving.rules import default_rules
from serving.store import Ask, SQLiteStore
from tests.core_api.services.review_helpers import T0, case, user

Sessions = sessionmaker[Session]
HOME = Context(ip="10.0.0.1", device="dev-1", country="FR", verified=True, account_age_s=9e6)


@pytest.fixture
def store(tmp_path: Path) -> SQLiteStore:
    return SQLiteStore(tmp_path / "online.sqlite")


def _events(sessions: Sessions, event_type: str) -> list[dict]:
    with sessions() as db:
        lines = db.scalars(select(OutboxRow.line).where(OutboxRow.event_type == event_type))
        return [json.loads(line) for line in lines]


def test_confirm_bans_denies_at_once_and_emits_in_one_go(
    sessions: Sessions, store: SQLiteStore
) -> None:
    analyst, fraudster = user(sessions, role="analyst"), user(sessions)
    main = case(sessions, fraudster)
    sibling = case(sessions, fraudster, source="report")
    decider = Decider(store, rules=default_rules())
    store.remember(fraudster, device="dev-1", country="FR")
    assert decider.decide(fraudster, "transfer", context=HOME).outcome != "deny"
    with sessions() as db:
        done = review.decide(
            db,
            main,
            analyst_id=analyst,
            action="confirm",
            reason="ring",
            note="shared cards",
            store=store,
            context={"ip": "10.1.1.1", "device_id": None, "user_agent": None},
        )
    assert done.action == "confirm" and done.case_id == main
    denied = decider.decide(fraudster, "transfer", context=HOME)  # no publish in between
    assert (denied.outcome, denied.reasons) == ("deny", ("analyst_override",))
    with sessions() as db:
        banned = db.get(User, fraudster)
        assert banned is not None and banned.status == "banned"
        audit = db.scalars(select(StatusAudit).where(StatusAudit.user_id == fraudster)).one()
        assert (audit.reason_code, audit.actor_id) == ("confirmed_fraud", analyst)
        assert review.get_case(db, sibling, analyst_id=analyst).status == "decided"
    (verdict,) = _events(sessions, "REVIEW_DECISION")
    assert verdict["payload"] == {"decision": "confirmed_fraud", "case_id": main}
    assert verdict["subject_id"] == fraudster and verdict["actor_id"] == analyst
    assert _events(sessions, "ACCOUNT_STATUS_CHANGED")[0]["payload"]["account_status"] == "banned"
    with sessions() as db, pytest.raises(ReviewError, match="case_decided"):
        review.decide(db, main, analyst_id=analyst, action="clear", reason="again")


def test_escalate_and_request_info_keep_the_case_in_the_queue(sessions: Sessions) -> None:
    analyst = user(sessions, role="analyst")
    asked = user(sessions)
    a, b = case(sessions, user(sessions)), case(sessions, asked)
    with sessions() as db:
        review.claim(db, a, analyst_id=analyst)
        review.decide(db, a, analyst_id=analyst, action="escalate", reason="needs_senior")
        review.decide(db, b, analyst_id=analyst, action="request_info", reason="id_document")
        statuses = {
            c.id: (c.status, c.assignee_id) for c in review.queue(db, analyst_id=analyst).rows
        }
        with pytest.raises(ReviewError, match="bad_reason"):
            review.decide(db, a, analyst_id=analyst, action="clear", reason="Not A Code")
    assert statuses == {a: ("escalated", None), b: ("info_requested", analyst)}
    assert [e["payload"]["decision"] for e in _events(sessions, "REVIEW_DECISION")] == ["escalated"]
    # Asking for information is a step, not a verdict: its own event, never a REVIEW_DECISION.
    (step,) = _events(sessions, "REVIEW_INFO_REQUESTED")
    assert step["payload"] == {"case_id": b, "reason_code": "id_document"}
    assert (step["subject_id"], step["actor_id"]) == (asked, analyst)


def test_only_seniors_reverse_and_a_reversed_confirm_reinstates(
    sessions: Sessions, store: SQLiteStore
) -> None:
    analyst, senior = user(sessions, role="analyst"), user(sessions, role="senior_analyst")
    target = user(sessions)
    main = case(sessions, target)
    with sessions() as db:
        done = review.decide(
            db, main, analyst_id=analyst, action="confirm", reason="ring", store=store
        )
        with pytest.raises(ReviewError, match="senior_analyst_required"):
            review.reverse(db, done.id, analyst_id=analyst, reason="mistake")
        undone = review.reverse(
            db, done.id, analyst_id=senior, reason="false_positive", note="twin", store=store
        )
        assert undone.reverses == done.id and undone.action == "reverse"
        with pytest.raises(ReviewError, match="already_reversed"):
            review.reverse(db, done.id, analyst_id=senior, reason="again")
        with pytest.raises(ReviewError, match="not_a_verdict"):
            review.reverse(db, undone.id, analyst_id=senior, reason="again")
        log = review.history(db, analyst_id=analyst, user_id=target)
        reinstated = db.get(User, target)
        assert reinstated is not None and reinstated.status == "active"
    assert [(d.action, d.reversed_by) for d in log] == [("confirm", undone.id), ("reverse", None)]
    assert store.fetch(Ask(user_id=target)).override is None
    decisions = [e["payload"] for e in _events(sessions, "REVIEW_DECISION")]
    assert decisions[-1] == {"decision": "cleared", "case_id": main, "reversed": True}


def test_a_reversed_clear_goes_back_to_the_queue_escalated(sessions: Sessions) -> None:
    analyst, admin = user(sessions, role="analyst"), user(sessions, role="admin")
    main = case(sessions, user(sessions))
    with sessions() as db:
        done = review.decide(db, main, analyst_id=analyst, action="clear", reason="benign")
        review.reverse(db, done.id, analyst_id=admin, reason="missed_ring")
        assert review.get_case(db, main, analyst_id=analyst).status == "escalated"


def test_a_decision_dated_now_dates_its_events_too(sessions: Sessions) -> None:
    """A simulation decides on its own day: the labels must fall on it, not on the wall clock."""
    analyst, senior = user(sessions, role="analyst"), user(sessions, role="senior_analyst")
    main = case(sessions, user(sessions))
    with sessions() as db:
        done = review.decide(db, main, analyst_id=analyst, action="confirm", reason="r", now=T0)
        later = T0 + timedelta(hours=3)
        review.reverse(db, done.id, analyst_id=senior, reason="twin", now=later)
    dated = {
        (e["payload"].get("decision") or e["payload"]["account_status"], e["occurred_at"])
        for t in ("REVIEW_DECISION", "ACCOUNT_STATUS_CHANGED")
        for e in _events(sessions, t)
    }
    assert {(what, datetime.fromisoformat(at)) for what, at in dated} == {
        ("confirmed_fraud", T0),
        ("banned", T0),
        ("cleared", later),
        ("active", later),
    }


def _flag(user_id: str, *, band: str = "high", day: int = 0, reasons: tuple = ("a",)) -> Flag:
    return Flag(user_id, 0.7, band, reasons, scored_at=T0 + timedelta(days=day))


def test_cleared_users_wait_for_new_evidence(sessions: Sessions) -> None:
    analyst, honest, stranger = user(sessions, role="analyst"), user(sessions), user(sessions)
    unknown = "00000000-0000-0000-0000-0000000000aa"
    with sessions() as db:
        first = review.sync_cases(db, flags=[_flag(honest), _flag(unknown)], now=T0)
        assert (first.opened, first.unknown_users) == (1, 1)
        again = review.sync_cases(db, flags=[_flag(honest, band="medium")], now=T0)
        assert (again.opened, again.refreshed) == (0, 1)  # one open case per user and source
        (row,) = review.queue(db, analyst_id=analyst).rows
        review.decide(
            db,
            row.id,
            analyst_id=analyst,
            action="clear",
            reason="benign",
            now=T0 + timedelta(hours=1),
        )
        same = review.sync_cases(db, flags=[_flag(honest, band="medium", day=1)])
        assert (same.opened, same.held_back) == (0, 1)  # rescored, but nothing new
        more = review.sync_cases(db, flags=[_flag(honest, day=2, reasons=("a", "new ring"))])
        assert more.opened == 1
        db.add(UserReport(reporter_id=stranger, reported_id=honest, reason="scam", created_at=T0))
        db.add(Appeal(user_id=stranger, account_status="suspended", body="x", created_at=T0))
        db.commit()
        signals = review.sync_cases(db)
        sources = {c.source for c in review.queue(db, analyst_id=analyst).rows}
    # the report predates the clear: held back; the appeal is the stranger's first case
    assert signals.opened == 1 and sources == {"score", "appeal"}


def test_metrics_count_decisions_and_reversals(sessions: Sessions) -> None:
    analyst, senior = user(sessions, role="analyst"), user(sessions, role="senior_analyst")
    ids = [case(sessions, user(sessions), age_h=h) for h in (1, 2, 3, 4)]
    with sessions() as db:
        now = T0 + timedelta(hours=1)
        first = review.decide(db, ids[0], analyst_id=analyst, action="confirm", reason="r", now=now)
        review.decide(db, ids[1], analyst_id=analyst, action="clear", reason="r", now=now)
        review.decide(db, ids[2], analyst_id=senior, action="confirm", reason="r", now=now)
        review.reverse(db, first.id, analyst_id=senior, reason="oops", now=now)
        m = review.metrics(db, analyst_id=analyst, now=now)
        assert review.queue(db, analyst_id=analyst, filters=QueueFilter(status="decided")).rows
    assert m.open_cases == 1 and m.by_status == {"decided": 3, "open": 1}
    assert m.oldest_open_age_s == pytest.approx(5 * 3600)
    assert m.share_confirmed == pytest.approx(0.5) and m.reversals == 1
    assert m.decisions_per_day == {now.date(): {analyst: 2, senior: 2}}
    assert m.median_time_to_decision_s == pytest.approx(3.5 * 3600)


def test_a_ring_is_decided_from_one_place_all_or_none(
    sessions: Sessions, store: SQLiteStore
) -> None:
    analyst, other = user(sessions, role="analyst"), user(sessions, role="analyst")
    ring = [user(sessions) for _ in range(3)]
    cases = [case(sessions, member) for member in ring]
    twin = case(sessions, ring[0], source="report")  # closed by its user's confirm
    held = case(sessions, user(sessions))
    with sessions() as db:
        review.claim(db, held, analyst_id=other)
        with pytest.raises(ReviewError, match="claimed_by_another"):
            review.decide_many(db, [*cases, held], analyst_id=analyst, action="confirm", reason="r")
        assert {review.get_case(db, c, analyst_id=analyst).status for c in cases} == {"open"}
        done = review.decide_many(
            db, [*cases, twin], analyst_id=analyst, action="confirm", reason="ring", store=store
        )
        assert [d.case_id for d in done] == cases  # the twin closed with its user, once
        assert review.get_case(db, twin, analyst_id=analyst).status == "decided"
        banned = {db.get(User, member).status for member in ring}  # type: ignore[union-attr]
    assert banned == {"banned"}
    assert {store.fetch(Ask(user_id=member)).override for member in ring} == {"deny"}
    assert len(_events(sessions, "REVIEW_DECISION")) == 3


def test_clearing_an_appeal_reinstates_the_account(sessions: Sessions, store: SQLiteStore) -> None:
    analyst, appellant = user(sessions, role="analyst"), user(sessions)
    first = case(sessions, appellant)
    with sessions() as db:
        review.decide(db, first, analyst_id=analyst, action="confirm", reason="r", store=store)
        db.add(Appeal(user_id=appellant, account_status="banned", body="it was my brother"))
        db.commit()
        assert review.sync_cases(db).opened == 1  # an appeal reopens a banned user's file
        (appeal,) = review.queue(db, analyst_id=analyst, filters=QueueFilter(source="appeal")).rows
        review.decide(
            db, appeal.id, analyst_id=analyst, action="clear", reason="proof_given", store=store
        )
        back = db.get(User, appellant)
    assert back is not None and back.status == "active"
    assert store.fetch(Ask(user_id=appellant)).override is None


def test_two_analysts_deciding_at_once_make_one_verdict(sessions: Sessions) -> None:
    ann, bob = user(sessions, role="analyst"), user(sessions, role="analyst")
    target = case(sessions, user(sessions))
    barrier = threading.Barrier(2)

    def verdict(analyst: str, action: str) -> str:
        with sessions() as db:
            review.get_case(db, target, analyst_id=analyst)  # both saw it open
            barrier.wait()
            try:
                review.decide(db, target, analyst_id=analyst, action=action, reason="race")  # type: ignore[arg-type]
            except ReviewError as exc:
                return exc.code
            return "done"

    with ThreadPoolExecutor(2) as pool:
        outcomes = sorted(pool.map(verdict, (ann, bob), ("confirm", "clear")))
    assert outcomes == ["case_decided", "done"]
    with sessions() as db:
        assert len(review.history(db, analyst_id=ann, case_id=target)) == 1

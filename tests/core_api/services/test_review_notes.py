"""Notes without a decision, on both databases: who may write them, what a body may be, and
that they neither emit events nor touch the case."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from core_api.db.outbox import OutboxRow
from core_api.db.review import ReviewNote
from core_api.services import review
from core_api.services.review import ReviewError
from tests.core_api.services.review_helpers import T0, case, user

Sessions = sessionmaker[Session]
NO_CASE = "00000000-0000-4000-8000-00000000beef"


def test_notes_are_appended_oldest_first_with_or_after_a_decision(sessions: Sessions) -> None:
    ann, bob = user(sessions, role="analyst"), user(sessions, role="senior_analyst")
    target = user(sessions)
    first, second = case(sessions, target), case(sessions, target, source="report")
    with sessions() as db:
        review.claim(db, first, analyst_id=ann)  # someone else's claim does not stop a note
        later = review.add_note(db, first, analyst_id=bob, body="  same card as ring 12 ", now=T0)
        early = review.add_note(
            db, second, analyst_id=ann, body="asked support", now=T0 - timedelta(hours=1)
        )
        review.decide(db, first, analyst_id=ann, action="clear", reason="benign")
        after = review.add_note(db, first, analyst_id=ann, body="chargeback arrived", now=T0)
        assert later.body == "same card as ring 12"  # trimmed
        assert (later.case_id, later.user_id, later.author_id) == (first, target, bob)
        assert review.notes(db, analyst_id=ann, case_id=first) == (later, after)
        assert review.notes(db, analyst_id=ann, user_id=target) == (early, later, after)
        assert review.get_case(db, first, analyst_id=ann).status == "decided"  # untouched
        events = db.scalar(select(func.count()).select_from(OutboxRow))
        assert events == 1  # the clear's REVIEW_DECISION; notes emit nothing


def test_notes_follow_the_decision_rules(sessions: Sessions) -> None:
    analyst, nobody, target = user(sessions, role="analyst"), user(sessions), user(sessions)
    theirs, mine = case(sessions, target), case(sessions, analyst)
    with sessions() as db:
        for call, status, code in [
            (
                lambda: review.add_note(db, theirs, analyst_id=nobody, body="hi"),
                403,
                "analyst_required",
            ),
            (lambda: review.notes(db, analyst_id=nobody, case_id=theirs), 403, "analyst_required"),
            (lambda: review.add_note(db, mine, analyst_id=analyst, body="hi"), 403, "own_account"),
            (
                lambda: review.add_note(db, NO_CASE, analyst_id=analyst, body="hi"),
                404,
                "no_such_case",
            ),
            (lambda: review.notes(db, analyst_id=analyst, case_id=NO_CASE), 404, "no_such_case"),
            (lambda: review.notes(db, analyst_id=analyst), 422, "case_or_user"),
        ]:
            with pytest.raises(ReviewError) as refused:
                call()
            assert (refused.value.status, refused.value.code) == (status, code)
        for body in ("", "   \n", "x" * 2001, "nul\x00byte"):
            with pytest.raises(ReviewError) as bad:
                review.add_note(db, theirs, analyst_id=analyst, body=body)
            assert (bad.value.status, bad.value.code) == (422, "bad_note")
        assert review.add_note(db, theirs, analyst_id=analyst, body="é" * 2000).body == "é" * 2000
        assert db.scalar(select(func.count()).select_from(ReviewNote)) == 1


def test_the_database_refuses_an_empty_or_overlong_note(sessions: Sessions) -> None:
    """The migration's CHECK holds even for a writer that skips the service."""
    target = user(sessions)
    case_id = case(sessions, target)
    for body in ("", "x" * 2001):
        with sessions() as db:
            db.add(ReviewNote(case_id=case_id, user_id=target, author_id=target, body=body, at=T0))
            with pytest.raises(IntegrityError):
                db.commit()

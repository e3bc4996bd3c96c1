"""The review queue on both databases: who may read it, keyset paging, filters, claims."""

from __future__ import annotations

import random
from decimal import Decimal

import pytest
from sqlalchemy.orm import Session, sessionmaker

from core_api.services import review
from core_api.services.review import QueueFilter, ReviewError
from tests.core_api.services.review_helpers import case, email_of, user

Sessions = sessionmaker[Session]


def _every_page(db: Session, analyst: str, **kw: object) -> list[review.CaseView]:
    out, cursor = [], None
    while True:
        page = review.queue(db, analyst_id=analyst, cursor=cursor, limit=7, **kw)  # type: ignore[arg-type]
        out += page.rows
        if page.next_cursor is None:
            return out
        cursor = page.next_cursor


def test_non_staff_are_refused_by_every_review_function(sessions: Sessions) -> None:
    nobody, target = user(sessions), user(sessions)
    case_id = case(sessions, target)
    calls = [
        lambda db: review.queue(db, analyst_id=nobody),
        lambda db: review.get_case(db, case_id, analyst_id=nobody),
        lambda db: review.claim(db, case_id, analyst_id=nobody),
        lambda db: review.assign(db, case_id, analyst_id=nobody, assignee_id=None),
        lambda db: review.decide(db, case_id, analyst_id=nobody, action="clear", reason="ok"),
        lambda db: review.reverse(db, 1, analyst_id=nobody, reason="oops"),
        lambda db: review.history(db, analyst_id=nobody, case_id=case_id),
        lambda db: review.metrics(db, analyst_id=nobody),
    ]
    with sessions() as db:
        for call in calls:
            with pytest.raises(ReviewError) as refused:
                call(db)
            assert (refused.value.status, refused.value.code) == (403, "analyst_required")


@pytest.mark.parametrize("sort", ["risk", "age", "amount"])
def test_keyset_pages_cover_every_case_once_in_order(sessions: Sessions, sort: str) -> None:
    analyst = user(sessions, role="analyst")
    rng = random.Random(3)
    for _ in range(40):  # ties on purpose: the id breaks them
        case(
            sessions,
            user(sessions),
            risk=rng.choice([0.2, 0.5, 0.9]),
            amount=rng.choice(["5", "12.5", "900"]),
            age_h=rng.choice([1, 2, 30]),
        )
    key = {"risk": "risk", "age": "opened_at", "amount": "amount_at_stake"}[sort]
    with sessions() as db:
        for descending in (True, False):
            got = _every_page(db, analyst, sort=sort, descending=descending)
            assert len({c.id for c in got}) == len(got) == 40
            keys = [(getattr(c, key), c.id) for c in got]
            assert keys == sorted(keys, reverse=descending)


def test_paging_is_stable_while_cases_arrive_and_leave(sessions: Sessions) -> None:
    analyst = user(sessions, role="analyst")
    ids = [case(sessions, user(sessions), risk=i / 100) for i in range(20)]
    with sessions() as db:
        first = review.queue(db, analyst_id=analyst, limit=5)
    assert [c.risk for c in first.rows] == [0.19, 0.18, 0.17, 0.16, 0.15]
    case(sessions, user(sessions), risk=0.99)  # arrives above the cursor: not in later pages
    with sessions() as db:
        review.decide(db, ids[14], analyst_id=analyst, action="clear", reason="benign")
        second = review.queue(db, analyst_id=analyst, cursor=first.next_cursor, limit=5)
    assert [c.risk for c in second.rows] == [0.13, 0.12, 0.11, 0.10, 0.09]  # 0.14 was decided


def test_bad_cursor_sort_and_limit_are_422(sessions: Sessions) -> None:
    analyst = user(sessions, role="analyst")
    for i in range(3):
        case(sessions, user(sessions), risk=i / 10)
    with sessions() as db:
        cursor = review.queue(db, analyst_id=analyst, limit=1).next_cursor
        assert cursor
        for kw in (
            {"cursor": "not-a-cursor"},
            {"cursor": cursor, "sort": "amount"},  # a cursor of another ordering
            {"cursor": cursor[:-3]},
            {"sort": "name"},
            {"limit": 0},
            {"filters": QueueFilter(status="lost")},
        ):
            with pytest.raises(ReviewError) as bad:
                review.queue(db, analyst_id=analyst, **kw)  # type: ignore[arg-type]
            assert bad.value.status == 422


def test_filters_and_search_by_user_email_and_device(sessions: Sessions) -> None:
    analyst = user(sessions, role="analyst")
    shady = user(sessions, device="fp-shared-1")
    a = case(sessions, shady, source="report", band="medium", reasons="reported for scam")
    b = case(sessions, user(sessions), amount="250.0001", reasons="money from 5+ senders")
    with sessions() as db:

        def ids(**f: str) -> set[str]:
            rows = review.queue(db, analyst_id=analyst, filters=QueueFilter(**f)).rows
            return {r.id for r in rows}

        assert ids(search=shady) == ids(search="fp-shared-1") == {a}
        assert ids(search=email_of(sessions, shady).upper()) == {a}
        assert ids(source="report") == ids(band="medium") == ids(reason="scam") == {a}
        assert ids(reason="5+ senders") == {b} and ids(reason="%") == set()
        assert review.get_case(db, b, analyst_id=analyst).amount_at_stake == Decimal("250.0001")
        review.claim(db, b, analyst_id=analyst)
        assert ids(assignee_id=analyst) == ids(status="claimed") == {b}


def test_claim_assign_and_own_account(sessions: Sessions) -> None:
    ann, bob = user(sessions, role="analyst"), user(sessions, role="senior_analyst")
    mine = case(sessions, ann)
    theirs = case(sessions, user(sessions))
    with sessions() as db:
        with pytest.raises(ReviewError, match="own_account"):
            review.claim(db, mine, analyst_id=ann)
        with pytest.raises(ReviewError, match="own_account"):
            review.decide(db, mine, analyst_id=ann, action="clear", reason="fine")
        assert review.claim(db, theirs, analyst_id=ann).status == "claimed"
        assert review.claim(db, theirs, analyst_id=ann).assignee_id == ann  # idempotent
        with pytest.raises(ReviewError, match="already_claimed"):
            review.claim(db, theirs, analyst_id=bob)
        with pytest.raises(ReviewError, match="claimed_by_another"):
            review.decide(db, theirs, analyst_id=bob, action="clear", reason="fine")
        with pytest.raises(ReviewError, match="assignee_not_an_analyst"):
            review.assign(db, theirs, analyst_id=ann, assignee_id=user(sessions))
        assert review.assign(db, theirs, analyst_id=ann, assignee_id=bob).assignee_id == bob
        released = review.assign(db, theirs, analyst_id=bob, assignee_id=None)
        assert (released.status, released.assignee_id) == ("open", None)
        with pytest.raises(ReviewError) as gone:
            review.get_case(db, "00000000-0000-0000-0000-00000000beef", analyst_id=ann)
        assert gone.value.status == 404

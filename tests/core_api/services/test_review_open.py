"""Cases an analyst opens by hand (a linked account with no case), on both databases."""

from __future__ import annotations

import json
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path

import polars as pl
import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from core_api.db.identity import User
from core_api.db.outbox import OutboxRow
from core_api.services import review
from core_api.services.review import QueueFilter, ReviewError
from serving.publish import publish
from serving.store import SQLiteStore
from tests.core_api.services.review_helpers import T0, case, user

Sessions = sessionmaker[Session]
NO_USER = "00000000-0000-4000-8000-00000000beef"


def _scored(tmp_path: Path, user_id: str) -> SQLiteStore:
    store = SQLiteStore(tmp_path / "online.sqlite")
    scores = pl.DataFrame(
        {
            "user_id": [user_id],
            "trust": [0.2],
            "fraud_risk": [0.42],
            "band": ["medium"],
            "confirmed_fraud": [False],
            "reasons": [["shares a device with a banned account"]],
            "model_version": "vouch-fraud/3",
            "scored_at": pl.Series([datetime.now(UTC)], dtype=pl.Datetime("us", "UTC")),
        }
    )
    publish(store, scores, snapshot="2026-11-25")
    return store


def test_an_opened_case_is_claimed_scored_noted_and_decided_like_any(
    sessions: Sessions, tmp_path: Path
) -> None:
    analyst, linked = user(sessions, role="analyst"), user(sessions)
    store = _scored(tmp_path, linked)
    with sessions() as db:
        opened = review.open_case(
            db, linked, analyst_id=analyst, note=" same device as case 12 ", store=store, now=T0
        )
        assert (opened.source, opened.status, opened.assignee_id) == ("analyst", "claimed", analyst)
        assert (opened.risk, opened.band) == (0.42, "medium")
        assert opened.reasons == ("shares a device with a banned account",)
        (note,) = review.notes(db, analyst_id=analyst, case_id=opened.id)
        assert (note.body, note.author_id) == ("same device as case 12", analyst)
        found = review.queue(db, analyst_id=analyst, filters=QueueFilter(source="analyst"))
        assert [c.id for c in found.rows] == [opened.id]
        with pytest.raises(ReviewError) as twice:
            review.open_case(db, linked, analyst_id=analyst)
        assert (twice.value.status, twice.value.code) == (409, "case_open")
        review.decide(db, opened.id, analyst_id=analyst, action="confirm", reason="ring_member")
        banned = db.get(User, linked)
        assert banned is not None and banned.status == "banned"
        line = db.scalar(select(OutboxRow.line).where(OutboxRow.event_type == "REVIEW_DECISION"))
        assert line is not None and json.loads(line)["payload"]["case_id"] == opened.id
        again = review.open_case(db, linked, analyst_id=analyst)  # a decided case does not block
        assert (again.risk, again.band, again.reasons) == (0.0, "low", ("opened by an analyst",))


def test_opening_a_case_follows_the_review_rules(sessions: Sessions) -> None:
    analyst, nobody, target = user(sessions, role="analyst"), user(sessions), user(sessions)
    flagged = user(sessions)
    case(sessions, flagged)
    with sessions() as db:
        for who, user_id, note, status, code in [
            (nobody, target, "", 403, "analyst_required"),
            (analyst, NO_USER, "", 404, "no_such_user"),
            (analyst, analyst, "", 403, "own_account"),
            (analyst, flagged, "", 409, "case_open"),  # work the case it has
            (analyst, target, "x" * 2001, 422, "bad_note"),
        ]:
            with pytest.raises(ReviewError) as refused:
                review.open_case(db, user_id, analyst_id=who, note=note)
            assert (refused.value.status, refused.value.code) == (status, code)
        assert (
            review.queue(db, analyst_id=analyst, filters=QueueFilter(source="analyst")).rows == ()
        )


def test_two_analysts_opening_at_once_open_one_case(sessions: Sessions) -> None:
    ann, bob = user(sessions, role="analyst"), user(sessions, role="analyst")
    target = user(sessions)
    barrier = threading.Barrier(2)

    def opening(analyst: str) -> str:
        with sessions() as db:
            review.roles_of(db, analyst)  # both sessions are up before either writes
            barrier.wait()
            try:
                review.open_case(db, target, analyst_id=analyst, note="same device")
            except ReviewError as exc:
                return exc.code
            return "opened"

    with ThreadPoolExecutor(2) as pool:
        outcomes = sorted(pool.map(opening, (ann, bob)))
    assert outcomes == ["case_open", "opened"]
    with sessions() as db:
        assert len(review.notes(db, analyst_id=ann, user_id=target)) == 1

"""Review verdicts and appeal outcomes reach the user, in the decision's own transaction."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from core_api.db.admin import Appeal
from core_api.db.identity import DevMessage, User
from core_api.db.notify import Notification, NotificationPreference
from core_api.services import notify, review
from core_api.services.review import QueueFilter
from tests.core_api.services.review_helpers import T0, case, user

Sessions = sessionmaker[Session]


def _notices(sessions: Sessions, user_id: str) -> list[tuple[str, str]]:
    with sessions() as db:
        rows = db.scalars(
            select(Notification)
            .where(Notification.user_id == user_id)
            .order_by(Notification.created_at, Notification.id)
        )
        return [(n.kind, n.title) for n in rows]


def _verified(sessions: Sessions, user_id: str) -> str:
    with sessions() as db:
        found = db.get(User, user_id)
        assert found is not None
        found.email_verified_at = T0
        db.commit()
        return found.email


def _mail(sessions: Sessions, recipient: str) -> list[str]:
    with sessions() as db:
        query = select(DevMessage.body).where(DevMessage.recipient == recipient)
        return list(db.scalars(query.order_by(DevMessage.id)))


def test_a_ban_its_appeal_and_a_reversal_are_told(sessions: Sessions) -> None:
    analyst, senior = user(sessions, role="analyst"), user(sessions, role="senior_analyst")
    target = user(sessions)
    email = _verified(sessions, target)
    first = case(sessions, target)
    with sessions() as db:
        done = review.decide(db, first, analyst_id=analyst, action="confirm", reason="ring")
        db.add(Appeal(user_id=target, account_status="banned", body="it was my brother"))
        db.commit()
        review.sync_cases(db)
        (appeal,) = review.queue(db, analyst_id=analyst, filters=QueueFilter(source="appeal")).rows
        review.decide(db, appeal.id, analyst_id=analyst, action="confirm", reason="no_proof")
        review.reverse(db, done.id, analyst_id=senior, reason="false_positive")
    assert _notices(sessions, target) == [
        ("review_decision", "Your account has been banned"),
        ("appeal_outcome", "Your appeal was refused"),
        ("review_decision", "Your account is active again"),
    ]
    mail = _mail(sessions, email)
    assert len(mail) == 3 and mail[0].startswith("Your account has been banned")


def test_a_silent_clear_or_escalation_tells_nobody(sessions: Sessions) -> None:
    analyst = user(sessions, role="analyst")
    cleared, escalated, asked = user(sessions), user(sessions), user(sessions)
    with sessions() as db:
        review.decide(db, case(sessions, cleared), analyst_id=analyst, action="clear", reason="ok")
        review.decide(
            db, case(sessions, escalated), analyst_id=analyst, action="escalate", reason="senior"
        )
        review.decide(
            db, case(sessions, asked), analyst_id=analyst, action="request_info", reason="id_doc"
        )
    assert _notices(sessions, cleared) == [] and _notices(sessions, escalated) == []
    assert _notices(sessions, asked) == [("review_decision", "We need more information")]


def test_a_notice_rolls_back_with_its_transaction(sessions: Sessions) -> None:
    target = user(sessions)
    email = _verified(sessions, target)
    with sessions() as db:
        notify.notify(db, target, kind="payout", title="Payout sent")
        db.rollback()
    assert _notices(sessions, target) == [] and _mail(sessions, email) == []


def test_unverified_addresses_get_no_mail_and_messages_coalesce(sessions: Sessions) -> None:
    target = user(sessions)
    with sessions() as db:
        for _ in range(3):
            notify.notify(
                db,
                target,
                kind="new_message",
                title="New message",
                subject=("conversation", "c1"),
                coalesce=True,
            )
        notify.notify(db, target, kind="payout", title="Payout sent")
        db.commit()
        counts = sorted(n.count for n in db.scalars(select(Notification)))
        assert db.scalars(select(DevMessage)).all() == []  # e-mail never verified
    assert counts == [1, 3]


def test_required_kinds_stay_in_the_app(sessions: Sessions) -> None:
    target = user(sessions)
    with sessions() as db:
        db.add(
            NotificationPreference(
                user_id=target, kind="review_decision", in_app=False, email=False, sms=False
            )
        )
        db.commit()
        assert notify.channels(db, target, kind="review_decision").in_app is True

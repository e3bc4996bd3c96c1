"""One-time codes: proof of control of an e-mail address or phone, and the second factor.

Codes go out through the dev message table (``dev_messages``), which stands where an e-mail or
SMS provider will; development and tests read it. Only a keyed hash of a code is stored.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta
from typing import Any, cast

from sqlalchemy import CursorResult, func, select, update
from sqlalchemy.orm import Session

from core_api.db.base import new_id
from core_api.db.identity import DevMessage, OneTimeCode, User
from core_api.services.security import CODE_ATTEMPTS, CODE_TTL, Tokens, new_code

MAX_CODES_PER_HOUR = 5


class CodeRejected(Exception):
    def __init__(self, reason: str, *, retry_after_s: int | None = None) -> None:
        super().__init__(reason)
        self.reason, self.retry_after_s = reason, retry_after_s


def send_code(
    db: Session, tokens: Tokens, *, user: User, purpose: str, destination: str
) -> OneTimeCode:
    now = datetime.now(UTC)
    count, oldest = db.execute(
        select(func.count(), func.min(OneTimeCode.created_at)).where(
            OneTimeCode.user_id == user.id,
            OneTimeCode.purpose == purpose,
            OneTimeCode.created_at > now - timedelta(hours=1),
        )
    ).one()
    if count >= MAX_CODES_PER_HOUR:
        # The hour slides: one more code is allowed when the oldest of these turns an hour old.
        oldest = oldest.replace(tzinfo=UTC) if oldest.tzinfo is None else oldest
        wait = oldest + timedelta(hours=1) - now
        raise CodeRejected("too_many_codes", retry_after_s=max(1, math.ceil(wait.total_seconds())))
    # Only the newest code counts: sending again retires the earlier ones.
    db.execute(
        update(OneTimeCode)
        .where(
            OneTimeCode.user_id == user.id,
            OneTimeCode.purpose == purpose,
            OneTimeCode.consumed_at.is_(None),
        )
        .values(consumed_at=now)
    )
    code, code_id = new_code(), new_id()
    row = OneTimeCode(
        id=code_id,
        user_id=user.id,
        purpose=purpose,
        destination=destination,
        code_hash=tokens.hash_code(code, code_id=code_id),
        expires_at=now + CODE_TTL,
    )
    db.add(row)
    channel = "email" if "@" in destination else "sms"
    db.add(DevMessage(channel=channel, recipient=destination, body=f"Your Vouch code: {code}"))
    return row


def check_code(
    db: Session, tokens: Tokens, *, user: User, purpose: str, destination: str, code: str
) -> None:
    """Consume the newest code or raise; a wrong guess is committed so attempts add up."""
    now = datetime.now(UTC)
    row = db.scalar(
        select(OneTimeCode)
        .where(
            OneTimeCode.user_id == user.id,
            OneTimeCode.purpose == purpose,
            OneTimeCode.consumed_at.is_(None),
        )
        .order_by(OneTimeCode.created_at.desc())
        .limit(1)
    )
    # A code proves control of where it was sent, not of an address changed since.
    if row is None or row.expires_at <= now or row.destination != destination:
        raise CodeRejected("no_valid_code")
    # Counted by a conditional update, so concurrent guesses cannot exceed the allowance.
    counted = cast(
        CursorResult[Any],  # what an UPDATE without RETURNING gives (SQLAlchemy's advice)
        db.execute(
            update(OneTimeCode)
            .where(OneTimeCode.id == row.id, OneTimeCode.attempts < CODE_ATTEMPTS)
            .values(attempts=OneTimeCode.attempts + 1)
        ),
    ).rowcount
    if counted != 1:
        raise CodeRejected("too_many_attempts")
    if not tokens.code_matches(code, code_id=row.id, code_hash=row.code_hash):
        db.commit()
        raise CodeRejected("wrong_code")
    row.consumed_at = now

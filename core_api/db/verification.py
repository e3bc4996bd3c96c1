"""Verifications: one row per user and kind of proof (e-mail, phone, KYC, document, biometric),
pending until decided, with what the check returned in ``details``."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, CheckConstraint, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from core_api.db.base import Base, UtcDateTime, id_column_type, new_id, utcnow

VERIFICATION_KINDS = ("email", "phone", "kyc", "document", "biometric")
VERIFICATION_STATUSES = ("pending", "verified", "rejected")


class Verification(Base):
    __tablename__ = "verifications"
    __table_args__ = (
        UniqueConstraint("user_id", "kind", name="uq_verifications_user_kind"),
        CheckConstraint("kind IN ('email', 'phone', 'kyc', 'document', 'biometric')", name="kind"),
        CheckConstraint("status IN ('pending', 'verified', 'rejected')", name="status"),
    )

    id: Mapped[str] = mapped_column(id_column_type(), primary_key=True, default=new_id)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(12))
    status: Mapped[str] = mapped_column(String(8), default="pending")
    # The check's own record: a provider and its reference, a document type, a score ...
    # ``metadata`` is taken on a declarative class, hence the column's other name.
    details: Mapped[dict[str, Any]] = mapped_column("metadata", JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    decided_at: Mapped[datetime | None] = mapped_column(UtcDateTime)

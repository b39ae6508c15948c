from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import CheckConstraint, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from dermifi.core.db import Base, PortableJSON, PracticeOwned, UTCDateTime

PENDING = "pending"  # waiting for its next attempt (or being attempted: see locked_until)
DELIVERED = "delivered"
FAILED = "failed"  # gave up after the configured attempts, or the receiver refused it
STATUSES = (PENDING, DELIVERED, FAILED)


class OutboxMessage(PracticeOwned, Base):
    """A message to deliver, committed in the same transaction as the change that causes it:
    a rolled-back change sends nothing, a committed one is never lost.

    The payload holds ids only (the handler reads what it needs at delivery, in the message's
    practice), so no PHI waits in this table. The idempotency key travels with every attempt,
    so a receiver that sees a message twice (at-least-once delivery) acts on it once.

    A worker claims a message by leasing it (``locked_until``, ``claim_token``) and counting
    the attempt, in a short transaction of its own; it delivers outside any transaction and
    then records the outcome under the same token. A worker that dies mid-delivery leaves the
    lease to run out, and another worker tries again.
    """

    __tablename__ = "outbox_message"
    __table_args__ = (
        CheckConstraint(f"status IN {STATUSES!r}", name="status"),
        CheckConstraint("attempts >= 0", name="attempts"),
        Index("ix_outbox_message_status_next_attempt_at", "status", "next_attempt_at"),
        Index("ix_outbox_message_practice_id_status_created_at", "practice_id", "status",
              "created_at"),
    )

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    topic: Mapped[str] = mapped_column(String(60))
    target: Mapped[str | None] = mapped_column(String(200))  # e.g. the pharmacy's id
    payload: Mapped[dict[str, Any]] = mapped_column(PortableJSON)
    idempotency_key: Mapped[str] = mapped_column(String(120), unique=True)
    status: Mapped[str] = mapped_column(String(20), default=PENDING)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    claim_token: Mapped[str | None] = mapped_column(String(40))
    last_error: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    created_by: Mapped[str | None] = mapped_column(String(40))
    request_id: Mapped[str | None] = mapped_column(String(64))
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    failed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

"""Outbox queries: the admin's list, and the worker's claim and outcome writes.

The worker's statements run without a practice (it serves them all); each changes a row only
under the claim token it holds, so a worker whose lease ran out cannot record over the worker
that took the message over.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Select, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from dermifi.auth.actor import Actor
from dermifi.core.repository import Repository
from dermifi.outbox.models import DELIVERED, FAILED, PENDING, OutboxMessage


class OutboxRepository(Repository[OutboxMessage, Actor]):
    model = OutboxMessage
    not_found = "No such outbox message"

    def list_statement(self, actor: Actor, *, status: str | None, topic: str | None
                       ) -> Select[Any]:
        stmt = self.readable(actor)
        if status is not None:
            stmt = stmt.where(OutboxMessage.status == status)
        if topic is not None:
            stmt = stmt.where(OutboxMessage.topic == topic)
        return stmt.order_by(OutboxMessage.created_at.desc(), OutboxMessage.id.desc())


async def claim_due(session: AsyncSession, *, now: datetime, lease_until: datetime,
                    token: str, limit: int) -> Sequence[OutboxMessage]:
    """Lease up to ``limit`` messages that are due and not leased by a live worker, counting
    the attempt. ``SKIP LOCKED`` lets several workers claim side by side on PostgreSQL, each
    passing over the rows another is claiming; SQLite's write lock makes claims serial."""
    due = (select(OutboxMessage.id)
           .where(OutboxMessage.status == PENDING, OutboxMessage.next_attempt_at <= now,
                  or_(OutboxMessage.locked_until.is_(None), OutboxMessage.locked_until < now))
           .order_by(OutboxMessage.next_attempt_at, OutboxMessage.id)
           .limit(limit)
           .with_for_update(skip_locked=True))
    ids = list((await session.scalars(due)).all())
    if not ids:
        return []
    await session.execute(
        update(OutboxMessage).where(OutboxMessage.id.in_(ids))
        .values(locked_until=lease_until, claim_token=token,
                attempts=OutboxMessage.attempts + 1)
        .execution_options(synchronize_session=False))
    claimed = (await session.scalars(
        select(OutboxMessage).where(OutboxMessage.id.in_(ids))
        .order_by(OutboxMessage.next_attempt_at, OutboxMessage.id)
        .execution_options(populate_existing=True))).all()
    return claimed


async def _under_claim(session: AsyncSession, message_id: str, token: str,
                       **values: Any) -> bool:
    result = await session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id == message_id, OutboxMessage.claim_token == token,
               OutboxMessage.status == PENDING)
        .values(locked_until=None, claim_token=None, **values)
        .execution_options(synchronize_session=False))
    return bool(getattr(result, "rowcount", 0))


async def mark_delivered(session: AsyncSession, message_id: str, token: str, *,
                         now: datetime) -> bool:
    return await _under_claim(session, message_id, token, status=DELIVERED, delivered_at=now,
                              last_error=None)


async def mark_retry(session: AsyncSession, message_id: str, token: str, *,
                     next_attempt_at: datetime, error: str) -> bool:
    return await _under_claim(session, message_id, token, next_attempt_at=next_attempt_at,
                              last_error=error)


async def mark_failed(session: AsyncSession, message_id: str, token: str, *, now: datetime,
                      error: str) -> bool:
    return await _under_claim(session, message_id, token, status=FAILED, failed_at=now,
                              last_error=error)


async def reopen_failed(session: AsyncSession, message_id: str, *, now: datetime) -> bool:
    """A failed message, pending again with a fresh count of attempts."""
    result = await session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id == message_id, OutboxMessage.status == FAILED)
        .values(status=PENDING, attempts=0, next_attempt_at=now, failed_at=None)
        .execution_options(synchronize_session=False))
    return bool(getattr(result, "rowcount", 0))

"""Writing messages (for the domains, inside their unit of work) and the admin's view of the
ones that failed.

``enqueue`` adds the message to the caller's transaction: it commits with the change or not at
all. Nothing here sends anything; the worker (``outbox.worker``) delivers after commit.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from sqlalchemy import event, text
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from dermifi.audit import service as audit_service
from dermifi.auth.actor import Actor
from dermifi.auth.permissions import Role
from dermifi.core.context import current_clock, request_id_var
from dermifi.core.db import PRACTICE_KEY, unit_of_work
from dermifi.core.errors import Forbidden, InvalidState
from dermifi.core.ids import new_id
from dermifi.core.pagination import PageRequest, Pagination
from dermifi.outbox import wakeup
from dermifi.outbox.models import FAILED, PENDING, OutboxMessage
from dermifi.outbox.repository import OutboxRepository, reopen_failed

_WRITTEN = "outbox_written"
MAX_PAYLOAD_BYTES = 2000
PayloadValue = str | int | bool | None | list[str]


def _check_payload(payload: Mapping[str, Any]) -> dict[str, Any]:
    """Ids, codes and counts only: the handler reads the rest at delivery, so no PHI waits
    in the outbox (or in its list of failures)."""
    for key, value in payload.items():
        if not isinstance(key, str) or len(key) > 40:
            raise ValueError("outbox payload keys are short strings")
        values = value if isinstance(value, list) else [value]
        for item in values:
            if not (item is None or isinstance(item, bool | int)
                    or (isinstance(item, str) and len(item) <= 120)):
                raise ValueError(f"outbox payload {key!r}: ids, codes and counts only")
    data = dict(payload)
    if len(json.dumps(data)) > MAX_PAYLOAD_BYTES:
        raise ValueError("outbox payload too large: carry ids, not documents")
    return data


async def enqueue(session: AsyncSession, *, topic: str, payload: Mapping[str, Any],
                  target: str | None = None, idempotency_key: str | None = None,
                  actor: Actor | None = None) -> OutboxMessage:
    """Add a message to the caller's unit of work (call it inside one). ``idempotency_key``
    defaults to the message's own id; give one derived from the change (``trans_…``) when a
    retried request must not queue a second message."""
    practice_id = session.info.get(PRACTICE_KEY) or (actor.practice_id if actor else None)
    if practice_id is None:
        raise RuntimeError("an outbox message belongs to a practice: scope the session first")
    now = current_clock().now()
    message_id = new_id("msg")
    message = OutboxMessage(
        id=message_id, practice_id=practice_id, topic=topic, target=target,
        payload=_check_payload(payload), idempotency_key=idempotency_key or message_id,
        status=PENDING, attempts=0, next_attempt_at=now, created_at=now,
        created_by=actor.id if actor else None, request_id=request_id_var.get())
    session.add(message)
    await _wake_after_commit(session)
    return message


async def _wake_after_commit(session: AsyncSession) -> None:
    session.info[_WRITTEN] = True
    bind = session.bind
    if bind is not None and bind.dialect.name == "postgresql":
        # Delivered by PostgreSQL at commit, and only if the transaction commits.
        await session.execute(text("SELECT pg_notify(:channel, '')"),
                              {"channel": wakeup.CHANNEL})


@event.listens_for(Session, "after_commit")
def _wake_local_workers(session: Session) -> None:
    if session.info.pop(_WRITTEN, False):
        wakeup.notify_local()


@event.listens_for(Session, "after_rollback")
def _forget_rolled_back(session: Session) -> None:
    session.info.pop(_WRITTEN, None)


# --- the admin's view ----------------------------------------------------------------------

def _ensure_admin(actor: Actor) -> None:
    if actor.role is not Role.ADMIN:
        raise Forbidden("Only administrators see the outbox")


async def list_messages(session: AsyncSession, actor: Actor, *, page: PageRequest,
                        status: str | None, topic: str | None
                        ) -> tuple[list[OutboxMessage], Pagination]:
    """The practice's messages, newest first (``status=failed``: what needs a look)."""
    _ensure_admin(actor)
    async with unit_of_work(session):
        repository = OutboxRepository(session)
        rows, pagination = await repository.page(
            repository.list_statement(actor, status=status, topic=topic), page)
        messages: list[OutboxMessage] = list(rows)
        await audit_service.record(session, actor, "outbox.list", resource_type="outbox",
                                   details={"status": status, "returned": len(messages),
                                            "page": page.page})
    return messages, pagination


async def retry(session: AsyncSession, actor: Actor, *, message_id: str) -> OutboxMessage:
    """Put a failed message back in line, with a fresh count of attempts."""
    _ensure_admin(actor)
    async with unit_of_work(session):
        repository = OutboxRepository(session)
        message = await repository.get_readable(actor, message_id, lock="update")
        if message.status != FAILED or not await reopen_failed(
                session, message.id, now=current_clock().now()):
            raise InvalidState(f"Only a failed message can be retried; this one is "
                               f"{message.status}",
                               details=[{"field": "status",
                                         "message": f"Currently {message.status}"}])
        await audit_service.record(session, actor, "outbox.retry", resource_type="outbox",
                                   resource_id=message.id, details={"topic": message.topic})
        await _wake_after_commit(session)
        await session.refresh(message)
    return message

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query

from dermifi.auth.dependencies import RequireAdmin
from dermifi.core.deps import DbSession
from dermifi.core.errors import error_responses
from dermifi.core.pagination import Page, PageParams
from dermifi.outbox import service
from dermifi.outbox.models import PENDING, OutboxMessage
from dermifi.outbox.schemas import OutboxMessageRead, OutboxStatus

router = APIRouter(prefix="/outbox", tags=["outbox"])


def _read(message: OutboxMessage) -> OutboxMessageRead:
    read = OutboxMessageRead.model_validate(message)
    if message.status != PENDING:
        read.next_attempt_at = None  # nothing is tried next
    return read


@router.get("", response_model=Page[OutboxMessageRead], responses=error_responses())
async def list_outbox(
    session: DbSession, actor: RequireAdmin, page: PageParams,
    status: OutboxStatus | None = None,
    topic: Annotated[str | None, Query(max_length=60)] = None,
) -> Page[OutboxMessageRead]:
    """The practice's messages to the outside world, newest first (admin only):
    `status=failed` lists those that need a look."""
    messages, pagination = await service.list_messages(session, actor, page=page,
                                                       status=status, topic=topic)
    return Page[OutboxMessageRead](data=[_read(m) for m in messages], pagination=pagination)


@router.post("/{message_id}/retry", response_model=OutboxMessageRead,
             responses=error_responses(404, 409))
async def retry_outbox_message(
    message_id: Annotated[str, Path(max_length=64)], session: DbSession, actor: RequireAdmin,
) -> OutboxMessageRead:
    """Deliver a failed message again, with a fresh count of attempts (admin only). Anything
    but a failed message is `INVALID_STATE`."""
    return _read(await service.retry(session, actor, message_id=message_id))

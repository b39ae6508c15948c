from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from dermifi.core.schemas import ApiModel, UtcDateTime

OutboxStatus = Literal["pending", "delivered", "failed"]


class OutboxMessageRead(ApiModel):
    """A message to the outside world and how its delivery went. The payload holds ids only."""

    id: str
    topic: str
    target: str | None
    payload: dict[str, Any]
    idempotency_key: str = Field(description="Sent with every attempt; the receiver acts once")
    status: OutboxStatus
    attempts: int
    next_attempt_at: UtcDateTime | None = Field(
        description="When a pending message is tried next")
    last_error: str | None
    created_at: UtcDateTime
    created_by: str | None
    delivered_at: UtcDateTime | None
    failed_at: UtcDateTime | None
